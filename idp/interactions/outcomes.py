"""What the authorization endpoint and the interaction pages end in: one `Outcome` for the web
layer to render (idp.web.outcomes), free of any web framework."""

from __future__ import annotations

from dataclasses import dataclass

from idp.protocol.errors import ProtocolError


@dataclass(frozen=True)
class RedirectToClient:
    location: str


@dataclass(frozen=True)
class PostToClient:
    """response_mode=form_post (OAuth 2.0 Form Post Response Mode): the code never enters a URL."""

    action: str
    params: list[tuple[str, str]]


@dataclass(frozen=True)
class ErrorPage:
    error: ProtocolError  # a catalogue entry with page text


@dataclass(frozen=True)
class ShowSignIn:
    interaction_handle: str


@dataclass(frozen=True)
class ShowStepUp:
    """The signed-in citizen must confirm it is them with a stronger method (a higher level)."""

    interaction_handle: str


@dataclass(frozen=True)
class ShowConsent:
    interaction_handle: str


@dataclass(frozen=True)
class ReturnToGateway:
    """A page of the gateway itself (the citizen's account area), after signing in there."""

    path: str


Outcome = (
    RedirectToClient
    | PostToClient
    | ErrorPage
    | ShowSignIn
    | ShowStepUp
    | ShowConsent
    | ReturnToGateway
)
