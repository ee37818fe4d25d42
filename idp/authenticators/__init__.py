"""Authenticators a citizen adds to their password (NIST SP 800-63B 5.1): an authenticator app
(RFC 6238 TOTP) and recovery codes (look-up secrets), each used to step up to a higher level of
assurance (idp.authentication.step_up)."""
