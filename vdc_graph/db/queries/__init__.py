"""Every query of the API, scoped to a caller's provider (and customer) by construction."""
