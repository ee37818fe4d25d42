"""OAuth 2.0 / OIDC rules as plain functions: no web framework, no database."""
