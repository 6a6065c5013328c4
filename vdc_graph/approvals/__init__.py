"""Four-eyes approval: destructive mutations held until another person approves them."""
