"""Consent records, the consent page and the access log: what the citizen allowed, and what
happened with their data."""
