"""The tamper-evident access log: every sign-in, release of data and operator action, queued in
the request's transaction, sealed into an RFC 9162 Merkle tree, signed as checkpoints, proven and
verified."""
