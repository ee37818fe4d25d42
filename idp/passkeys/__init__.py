"""Passkeys (WebAuthn Level 3): a citizen's discoverable credentials, their ceremonies and
challenges, and signing in and stepping up with them."""
