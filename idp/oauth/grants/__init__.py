"""Authlib's grants with our storage plugged into their hooks, one module per grant type
(RFC 6749 4.1, 6 and 4.4), and what they share (`issuing`)."""
