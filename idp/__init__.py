"""The core OpenID Provider: accounts, clients, authentication, browser sessions, keys, OAuth/OIDC."""
