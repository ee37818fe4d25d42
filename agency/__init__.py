"""The agency side: what an agency app needs to check the gateway's tokens, and a demo app.

It speaks to the gateway only over HTTP and verifies with PyJWT, a JOSE implementation
independent of the gateway's own, so the two must agree for anything to work.
"""
