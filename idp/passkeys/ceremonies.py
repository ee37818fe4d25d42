"""The WebAuthn ceremonies, through py_webauthn: the only module that imports it. Options for
registering a passkey and for signing in with one, and the verification of what the browser
answers. No storage and no web framework: the caller keeps the challenge and the credentials.

Every ceremony requires user verification (`userVerification: "required"`, and the UV flag
checked with `require_user_verification=True`): a passkey signs in on its own, so it must be
two factors, the device and the citizen's PIN or biometric. Registrations ask for a
discoverable credential (`residentKey: "required"`), so a citizen can sign in without typing a
username, and for no attestation (`"none"`): the gateway trusts the citizen's choice of device
rather than a vendor list. The RP ID and the origin come from the issuer alone, never from a
request's Host header, and must match exactly.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.parse_authentication_credential_json import (
    parse_authentication_credential_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

# How long the browser may take (WebAuthn `timeout`, milliseconds); the server-side challenge
# lives as long (idp.passkeys.challenges.CHALLENGE_LIFETIME).
CEREMONY_TIMEOUT_MS = 180_000
# What py_webauthn raises for an answer it cannot verify (malformed input included).
_REFUSALS = (
    WebAuthnException,
    ValueError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    OverflowError,
    struct.error,
)
# Up to WebAuthn's limit of 1023 bytes of credential ID, in base64url, and room for the rest.
MAX_CREDENTIAL_JSON = 16_384


@dataclass(frozen=True)
class RelyingParty:
    """The gateway as WebAuthn sees it: its RP ID (the issuer's host) and its origin (the
    issuer's scheme, host and port; a path of the issuer is not part of an origin)."""

    rp_id: str
    origin: str
    name: str

    @classmethod
    def of_issuer(cls, issuer: str, *, name: str) -> RelyingParty:
        parts = urlsplit(issuer)
        if not parts.hostname:
            raise ValueError(f"the issuer {issuer!r} names no host")
        return cls(rp_id=parts.hostname, origin=f"{parts.scheme}://{parts.netloc}", name=name)


@dataclass(frozen=True)
class Options:
    """What the browser gets (py_webauthn's `options_to_json`, which
    `PublicKeyCredential.parse*OptionsFromJSON` reads) and the challenge the server keeps."""

    json: str
    challenge: bytes


@dataclass(frozen=True)
class NewCredential:
    credential_id: str  # base64url
    public_key: bytes
    sign_count: int
    backup_eligible: bool


@dataclass(frozen=True)
class Assertion:
    """A sign-in answer before its signature is checked: which credential it names and, for a
    discoverable credential, the user handle (the account) the authenticator stored with it."""

    credential_id: str
    user_handle: bytes | None
    parsed: AuthenticationCredential


@dataclass(frozen=True)
class VerifiedAssertion:
    new_sign_count: int
    multi_device: bool  # a synced passkey (backup eligible), rather than one bound to a device


RefusalReason = Literal[
    "user_not_verified", "sign_count_regressed", "invalid_response", "unknown_credential"
]


@dataclass(frozen=True)
class CeremonyRefused:
    """Why a ceremony's answer was refused: `user_not_verified`, a valid answer without the UV
    flag; `sign_count_regressed`, a valid answer whose counter is not above the stored one (a
    cloned authenticator); `invalid_response`, anything else (wrong challenge, origin, RP ID,
    signature, or malformed); `unknown_credential`, a credential the gateway does not have.
    `detail` is py_webauthn's words, for the gateway's own log only."""

    reason: RefusalReason
    detail: str = ""


def registration_options(
    rp: RelyingParty,
    *,
    user_handle: bytes,
    username: str,
    display_name: str,
    existing: list[str],
) -> Options:
    """Options for `navigator.credentials.create()`; `existing`: the account's credential IDs,
    which the authenticator is asked not to register again (`excludeCredentials`)."""
    options = generate_registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.name,
        user_id=user_handle,
        user_name=username,
        user_display_name=display_name,
        timeout=CEREMONY_TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            require_resident_key=True,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential_id))
            for credential_id in existing
        ],
    )
    return Options(json=options_to_json(options), challenge=options.challenge)


def verify_registration(
    rp: RelyingParty, *, credential_json: str, challenge: bytes
) -> NewCredential | CeremonyRefused:
    """The browser's answer to the registration options (`credential.toJSON()`). A refusal is
    `user_not_verified` only when the answer checks out with user verification left out."""
    if len(credential_json) > MAX_CREDENTIAL_JSON:
        return CeremonyRefused("invalid_response", "credential too large")
    try:
        verified = _verify_registration(rp, credential_json, challenge, uv=True)
    except _REFUSALS as refused:
        try:
            _verify_registration(rp, credential_json, challenge, uv=False)
        except _REFUSALS:
            return CeremonyRefused("invalid_response", str(refused))
        return CeremonyRefused("user_not_verified", str(refused))
    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
    )


def _verify_registration(
    rp: RelyingParty, credential_json: str, challenge: bytes, *, uv: bool
) -> VerifiedRegistration:
    return verify_registration_response(
        credential=credential_json,
        expected_challenge=challenge,
        expected_rp_id=rp.rp_id,
        expected_origin=rp.origin,
        require_user_verification=uv,
    )


def authentication_options(rp: RelyingParty, *, allowed: list[str]) -> Options:
    """Options for `navigator.credentials.get()`. `allowed` empty: any discoverable credential
    of this RP (a sign-in without a username); else only those (a named account's)."""
    options = generate_authentication_options(
        rp_id=rp.rp_id,
        timeout=CEREMONY_TIMEOUT_MS,
        allow_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential_id))
            for credential_id in allowed
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return Options(json=options_to_json(options), challenge=options.challenge)


def read_assertion(credential_json: str) -> Assertion | CeremonyRefused:
    """Which credential a sign-in answer names, so its public key can be looked up."""
    if len(credential_json) > MAX_CREDENTIAL_JSON:
        return CeremonyRefused("invalid_response", "credential too large")
    try:
        parsed = parse_authentication_credential_json(credential_json)
    except _REFUSALS as refused:
        return CeremonyRefused("invalid_response", str(refused))
    return Assertion(
        credential_id=bytes_to_base64url(parsed.raw_id),
        user_handle=parsed.response.user_handle,
        parsed=parsed,
    )


def verify_assertion(
    rp: RelyingParty,
    assertion: Assertion,
    *,
    challenge: bytes,
    public_key: bytes,
    stored_sign_count: int,
) -> VerifiedAssertion | CeremonyRefused:
    """The signature, challenge, origin, RP ID, user presence and verification, and the sign
    counter (WebAuthn 7.2), all by py_webauthn. A refusal is then named: the same answer is
    checked again with only user verification, or only the counter, left out, so that a
    refusal is called `user_not_verified` or `sign_count_regressed` only when everything else
    about the answer (its signature too) is right."""
    try:
        verified = _verify(rp, assertion, challenge, public_key, stored_sign_count, uv=True)
    except _REFUSALS as refused:
        return CeremonyRefused(
            _reason(rp, assertion, challenge, public_key, stored_sign_count), str(refused)
        )
    return VerifiedAssertion(
        new_sign_count=verified.new_sign_count,
        multi_device=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
    )


def _reason(
    rp: RelyingParty,
    assertion: Assertion,
    challenge: bytes,
    public_key: bytes,
    stored_sign_count: int,
) -> RefusalReason:
    relaxations: list[tuple[int, bool, RefusalReason]] = [
        (stored_sign_count, False, "user_not_verified"),
        (0, True, "sign_count_regressed"),
    ]
    for sign_count, uv, reason in relaxations:
        try:
            _verify(rp, assertion, challenge, public_key, sign_count, uv=uv)
        except _REFUSALS:
            continue
        return reason
    return "invalid_response"


def _verify(
    rp: RelyingParty,
    assertion: Assertion,
    challenge: bytes,
    public_key: bytes,
    sign_count: int,
    *,
    uv: bool,
) -> VerifiedAuthentication:
    return verify_authentication_response(
        credential=assertion.parsed,
        expected_challenge=challenge,
        expected_rp_id=rp.rp_id,
        expected_origin=rp.origin,
        credential_public_key=public_key,
        credential_current_sign_count=sign_count,
        require_user_verification=uv,
    )
