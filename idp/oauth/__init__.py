"""The typed wall around Authlib: the only package that imports it.

Authlib supplies the grant and endpoint machinery (RFC 6749, 7009, 7636, 7662, 9207, OIDC Core);
this package plugs our storage, keys and rules into its hooks and offers plain functions to the
web layer.
"""
