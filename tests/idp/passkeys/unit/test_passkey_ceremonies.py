"""The passkey ceremonies (idp.passkeys.ceremonies) against a software authenticator: the
options ask for what the gateway requires, and answers from another origin or RP ID, without
user verification, or with a counter that went back are refused by name."""

from __future__ import annotations

import json

import pytest

from idp.passkeys.ceremonies import (
    CeremonyRefused,
    NewCredential,
    RelyingParty,
    VerifiedAssertion,
    authentication_options,
    read_assertion,
    registration_options,
    verify_assertion,
    verify_registration,
)
from tests.soft_authenticator import SoftPasskey, as_json, b64url

RP = RelyingParty.of_issuer("https://login.example.gov/idp", name="Citizen sign-in")


def _registered(passkey: SoftPasskey) -> NewCredential:
    options = registration_options(
        RP, user_handle=b"subject-1", username="mari", display_name="Mari Maasikas", existing=[]
    )
    answer = as_json(passkey.create(json.loads(options.json)))
    verified = verify_registration(RP, credential_json=answer, challenge=options.challenge)
    assert isinstance(verified, NewCredential), verified
    return verified


def _signed_in(
    passkey: SoftPasskey, credential: NewCredential, *, stored: int = 0
) -> VerifiedAssertion | CeremonyRefused:
    options = authentication_options(RP, allowed=[])
    assertion = read_assertion(as_json(passkey.get(json.loads(options.json))))
    assert not isinstance(assertion, CeremonyRefused)
    return verify_assertion(
        RP,
        assertion,
        challenge=options.challenge,
        public_key=credential.public_key,
        stored_sign_count=stored,
    )


def test_the_relying_party_is_the_issuers_host_and_origin_exactly() -> None:
    assert RP.rp_id == "login.example.gov"
    assert RP.origin == "https://login.example.gov"
    local = RelyingParty.of_issuer("http://localhost:8400", name="x")
    assert (local.rp_id, local.origin) == ("localhost", "http://localhost:8400")


def test_options_require_user_verification_a_discoverable_key_and_no_attestation() -> None:
    created = json.loads(
        registration_options(
            RP, user_handle=b"s", username="mari", display_name="Mari", existing=[b64url(b"old")]
        ).json
    )
    assert created["rp"] == {"name": "Citizen sign-in", "id": "login.example.gov"}
    assert created["attestation"] == "none"
    assert created["authenticatorSelection"]["userVerification"] == "required"
    assert created["authenticatorSelection"]["residentKey"] == "required"
    assert created["excludeCredentials"] == [{"id": b64url(b"old"), "type": "public-key"}]
    requested = json.loads(authentication_options(RP, allowed=[]).json)
    assert requested["userVerification"] == "required"
    assert requested["rpId"] == "login.example.gov"
    assert requested.get("allowCredentials", []) == []


def test_a_passkey_registers_and_signs_in_and_its_counter_moves_on() -> None:
    passkey = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id)
    credential = _registered(passkey)
    assert credential.credential_id == b64url(passkey.credential_id)
    verified = _signed_in(passkey, credential)
    assert isinstance(verified, VerifiedAssertion)
    assert verified.new_sign_count == 1


@pytest.mark.parametrize(
    ("origin", "rp_id"),
    [
        ("https://login.example.gov.evil.example", "login.example.gov"),
        ("http://login.example.gov", "login.example.gov"),
        ("https://login.example.gov:8443", "login.example.gov"),
        ("https://login.example.gov", "example.gov"),
    ],
)
def test_another_origin_or_rp_id_is_refused(origin: str, rp_id: str) -> None:
    good = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id)
    credential = _registered(good)
    good.origin, good.rp_id = origin, rp_id
    refused = _signed_in(good, credential)
    assert isinstance(refused, CeremonyRefused) and refused.reason == "invalid_response"
    options = registration_options(
        RP, user_handle=b"s", username="mari", display_name="Mari", existing=[]
    )
    elsewhere = SoftPasskey(origin=origin, rp_id=rp_id)
    refused_registration = verify_registration(
        RP,
        credential_json=as_json(elsewhere.create(json.loads(options.json))),
        challenge=options.challenge,
    )
    assert isinstance(refused_registration, CeremonyRefused)
    assert refused_registration.reason == "invalid_response"


def test_an_answer_to_another_challenge_is_refused() -> None:
    passkey = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id)
    credential = _registered(passkey)
    options = authentication_options(RP, allowed=[])
    other = authentication_options(RP, allowed=[])
    assertion = read_assertion(as_json(passkey.get(json.loads(options.json))))
    assert not isinstance(assertion, CeremonyRefused)
    refused = verify_assertion(
        RP,
        assertion,
        challenge=other.challenge,
        public_key=credential.public_key,
        stored_sign_count=0,
    )
    assert isinstance(refused, CeremonyRefused) and refused.reason == "invalid_response"


def test_without_user_verification_registration_and_sign_in_are_refused_by_name() -> None:
    passkey = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id, user_verified=False)
    options = registration_options(
        RP, user_handle=b"s", username="mari", display_name="Mari", existing=[]
    )
    refused = verify_registration(
        RP,
        credential_json=as_json(passkey.create(json.loads(options.json))),
        challenge=options.challenge,
    )
    assert isinstance(refused, CeremonyRefused) and refused.reason == "user_not_verified"

    verified_once = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id)
    credential = _registered(verified_once)
    verified_once.user_verified = False
    refused = _signed_in(verified_once, credential)
    assert isinstance(refused, CeremonyRefused) and refused.reason == "user_not_verified"


def test_a_counter_that_goes_back_is_refused_as_a_clone() -> None:
    passkey = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id)
    credential = _registered(passkey)
    passkey.sign_count = 4  # the stored counter is 7: this key was copied before its last uses
    refused = _signed_in(passkey, credential, stored=7)
    assert isinstance(refused, CeremonyRefused) and refused.reason == "sign_count_regressed"
    # Both at zero is an authenticator without a counter, which WebAuthn allows.
    zero = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id)
    credential = _registered(zero)
    options = authentication_options(RP, allowed=[])
    assertion = read_assertion(as_json(zero.get(json.loads(options.json), count_up=False)))
    assert not isinstance(assertion, CeremonyRefused)
    assert isinstance(
        verify_assertion(
            RP,
            assertion,
            challenge=options.challenge,
            public_key=credential.public_key,
            stored_sign_count=0,
        ),
        VerifiedAssertion,
    )


def test_a_forged_signature_with_a_lower_counter_is_not_called_a_clone() -> None:
    passkey = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id)
    credential = _registered(passkey)
    impostor = SoftPasskey(origin=RP.origin, rp_id=RP.rp_id, credential_id=passkey.credential_id)
    refused = _signed_in(impostor, credential, stored=7)
    assert isinstance(refused, CeremonyRefused) and refused.reason == "invalid_response"


@pytest.mark.parametrize(
    "answer", ["", "{}", "[]", "not json", '{"id": "x", "rawId": "y"}', "x" * 20000]
)
def test_malformed_answers_are_refused_not_raised(answer: str) -> None:
    assert isinstance(read_assertion(answer), CeremonyRefused)
    refused = verify_registration(RP, credential_json=answer, challenge=b"c" * 32)
    assert isinstance(refused, CeremonyRefused) and refused.reason == "invalid_response"
