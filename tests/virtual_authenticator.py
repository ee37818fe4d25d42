"""Chromium's DevTools virtual authenticator on a page: a platform authenticator (internal
transport) that stores discoverable passkeys and verifies the user, with presence simulated,
so WebAuthn ceremonies run in tests without a device
(tests/idp/passkeys/test_passkeys_browser.py, the passkey states of tests/page_states.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from playwright.sync_api import CDPSession, Page


@dataclass
class VirtualAuthenticator:
    cdp: CDPSession
    authenticator_id: str

    def set_user_verified(self, verified: bool) -> None:
        """False: the next ceremony that requires user verification fails in the browser."""
        self.cdp.send(
            "WebAuthn.setUserVerified",
            {"authenticatorId": self.authenticator_id, "isUserVerified": verified},
        )

    def credentials(self) -> list[dict[str, Any]]:
        found = self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.authenticator_id})
        credentials: list[dict[str, Any]] = found["credentials"]
        return credentials

    def add_credential(self, credential: dict[str, Any]) -> None:
        self.cdp.send(
            "WebAuthn.addCredential",
            {"authenticatorId": self.authenticator_id, "credential": credential},
        )

    def remove(self) -> None:
        """The authenticator and its passkeys gone from the page (Chrome allows one internal
        authenticator per page: a tab used again needs its own removed first)."""
        self.cdp.send(
            "WebAuthn.removeVirtualAuthenticator", {"authenticatorId": self.authenticator_id}
        )
        self.cdp.send("WebAuthn.disable")
        self.cdp.detach()


# The authenticators added to each page, so a tab used again can be rid of them
# (tests.chromium.ReusedTabs).
_ON_PAGE: dict[Page, list[VirtualAuthenticator]] = {}


def remove_virtual_authenticators(page: Page) -> None:
    for authenticator in _ON_PAGE.pop(page, []):
        authenticator.remove()


def add_virtual_authenticator(page: Page) -> VirtualAuthenticator:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable", {"enableUI": False})
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    authenticator = VirtualAuthenticator(cdp=cdp, authenticator_id=added["authenticatorId"])
    _ON_PAGE.setdefault(page, []).append(authenticator)
    return authenticator
