"""What signing out tells apps, as discovery advertises it (Back-Channel Logout 1.0 section 2.1,
Front-Channel Logout 1.0 section 3): the claims of every logout token and the parameters added
to every front-channel logout URI.

Stated beside the code that sends them (`logout_tokens.sign_logout_token`,
`ending.end_browser_session`), which tests/idp/oauth/unit/test_discovery_capabilities.py
holds to them, so the metadata cannot promise a `sid` the apps never receive.
"""

from __future__ import annotations

# Back-Channel Logout 1.0 section 2.4; `sid` in every one, so an app can end the one session.
LOGOUT_TOKEN_CLAIMS = ("iss", "aud", "iat", "exp", "jti", "sub", "sid", "events")
# Front-Channel Logout 1.0 section 2: both or neither; always both.
FRONT_CHANNEL_LOGOUT_PARAMETERS = ("iss", "sid")
