"""What a form says when it cannot go on: one `FieldError` per problem, shown in the page's error
summary and beside the field it concerns (the GOV.UK error pattern, templates/idp/macros.html).
Messages are catalogue messages, translated where the page is shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from idp.protocol.languages import translatable


@dataclass(frozen=True)
class FieldError:
    field: str | None  # the id of the input it concerns; None for the form as a whole
    message: str


ENTER_USERNAME = translatable("Enter your username")
ENTER_PASSWORD = translatable("Enter your password")
# The same words whichever of the two was wrong, and whether the account exists or not.
CREDENTIALS_NOT_RIGHT = translatable(
    "The username or password is not right. Check them and try again."
)
TOO_MANY_FROM_NETWORK = translatable(
    "There have been too many attempts to sign in from your network. Wait a few minutes, then "
    "try again."
)
TOO_MANY_FOR_USERNAME = translatable(
    "There have been too many attempts to sign in with this username. Wait a few minutes, then "
    "try again."
)


def missing_sign_in_fields(username: str, password: str) -> list[FieldError]:
    """Empty fields, each with its own message: nothing is checked until both are there."""
    errors = []
    if not username.strip():
        errors.append(FieldError("username", ENTER_USERNAME))
    if not password:
        errors.append(FieldError("password", ENTER_PASSWORD))
    return errors


def message_for(errors: Sequence[FieldError], field: str) -> str | None:
    return next((error.message for error in errors if error.field == field), None)
