"""Signing keys and the one module that touches the JOSE library."""
