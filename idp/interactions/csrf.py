"""CSRF tokens of the gateway's own forms, issued and checked here only (constant-time).

Four kinds: an interaction's page (sign-in, consent) carries the random token stored with the
interaction; the account page carries one derived from the session cookie, the activation page
(used signed out) one derived from the browser-binding cookie, and the administrators' console
one derived from its own session cookie. A page on another site can read none of these cookies,
so a forged cross-site POST lacks the token.
"""

from __future__ import annotations

from idp.models import Interaction
from idp.opaque_values import digest, new_opaque_value, same_value


def new_interaction_csrf_token() -> str:
    return new_opaque_value(24)


def interaction_csrf_token_matches(submitted: str, interaction: Interaction) -> bool:
    return same_value(submitted, interaction.csrf_token)


def account_form_token(session_secret: str) -> str:
    return digest(f"account-form:{session_secret}")


def account_form_token_matches(submitted: str, session_secret: str) -> bool:
    return same_value(submitted, account_form_token(session_secret))


def activation_form_token(browser_binding: str) -> str:
    return digest(f"activation-form:{browser_binding}")


def activation_form_token_matches(submitted: str, browser_binding: str) -> bool:
    return same_value(submitted, activation_form_token(browser_binding))


def console_form_token(console_secret: str) -> str:
    return digest(f"console-form:{console_secret}")


def console_form_token_matches(submitted: str, console_secret: str) -> bool:
    return same_value(submitted, console_form_token(console_secret))
