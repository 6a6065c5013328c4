"""Downloads (CSV, ZIP), streamed row by row, authorised with the API's bearer token."""
