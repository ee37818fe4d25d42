"""The core OpenID Provider: accounts, clients, sign-in, browser sessions, keys, OAuth and OIDC."""
