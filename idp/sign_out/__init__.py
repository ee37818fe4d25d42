"""Signing out once, everywhere: which apps a browser session served, ending a session with its
tokens, and telling those apps (back-channel logout tokens from a durable outbox, front-channel
frames on the signed-out page)."""
