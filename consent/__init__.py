"""Consent records and the citizen's pages: the consent page, and the account page where the
citizen sees and withdraws what they allowed (the access log is transparency/)."""
