"""What a form says when it cannot go on: one `FieldError` per problem, shown in the page's error
summary and beside the field it concerns (the GOV.UK error pattern, templates/idp/macros.html).
Messages are catalogue messages, translated where the page is shown."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from idp.authentication.password_policy import PasswordProblem, password_problem
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
# Said only after the right password (idp.authentication.sign_in.SignInLocked).
ACCOUNT_LOCKED = translatable(
    "Your account is locked, so you cannot sign in. Contact support: they can tell you why and "
    "unlock it."
)
ENTER_ACTIVATION_CODE = translatable("Enter the activation code support gave you")
ENTER_NEW_PASSWORD = translatable("Enter a new password")
# The password policy's words (idp.authentication.password_policy).
NEW_PASSWORD_TOO_SHORT = PasswordProblem.TOO_SHORT.message
NEW_PASSWORD_TOO_LONG = PasswordProblem.TOO_LONG.message
ENTER_PASSWORD_AGAIN = translatable("Enter the new password again")
ENTER_CURRENT_PASSWORD = translatable("Enter your current password")
# Counted and logged as a failed sign-in (idp.authentication.change_password).
CURRENT_PASSWORD_NOT_RIGHT = translatable(
    "Your current password is not right. Check it and try again."
)
NEW_PASSWORD_SAME_AS_CURRENT = translatable(
    "Your new password must be different from your current one"
)
PASSWORDS_DIFFER = translatable("The two passwords are not the same. Enter the same one twice.")
# The same words whether the username exists or not, and whether the code was wrong, expired,
# used or void.
ACTIVATION_NOT_RIGHT = translatable(
    "The username or activation code is not right, or the code no longer works. Check them, "
    "or ask support for a new code."
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


def activation_form_errors(
    *, username: str, code: str, password: str, password_again: str
) -> list[FieldError]:
    """What the activation form lacks, checked before the code is: none of it counts as a try."""
    errors = []
    if not username.strip():
        errors.append(FieldError("username", ENTER_USERNAME))
    if not code.strip():
        errors.append(FieldError("code", ENTER_ACTIVATION_CODE))
    return errors + new_password_errors(
        password=password, password_again=password_again, username=username
    )


def new_password_errors(*, password: str, password_again: str, username: str) -> list[FieldError]:
    """A new password typed twice: there, the same both times, and within the password policy
    for the account `username` (checked before anything else, and never a try of anything)."""
    errors = []
    if not password:
        errors.append(FieldError("password", ENTER_NEW_PASSWORD))
    elif (problem := password_problem(password, username=username)) is not None:
        errors.append(FieldError("password", problem.message))
    if not password_again:
        errors.append(FieldError("password_again", ENTER_PASSWORD_AGAIN))
    elif password and password_again != password:
        errors.append(FieldError("password_again", PASSWORDS_DIFFER))
    return errors


def password_change_errors(
    *, current_password: str, password: str, password_again: str, username: str
) -> list[FieldError]:
    """What the change-password form lacks, checked before the current password is: none of it
    counts as a try. Comparing the two typed passwords tells nothing about the stored one."""
    errors = []
    if not current_password:
        errors.append(FieldError("current_password", ENTER_CURRENT_PASSWORD))
    new = new_password_errors(password=password, password_again=password_again, username=username)
    if password and password == current_password and not message_for(new, "password"):
        new.insert(0, FieldError("password", NEW_PASSWORD_SAME_AS_CURRENT))
    return errors + new


# Authenticator apps and recovery codes (idp.authenticators): setting one up, stepping up.
ENTER_APP_CODE = translatable("Enter the 6-digit code from your authenticator app")
APP_CODE_NOT_RIGHT = translatable(
    "The code is not right. Enter the code your authenticator app shows now."
)
APP_CODE_ALREADY_USED = translatable(
    "This code has already been used. Wait for your authenticator app to show a new code, then "
    "enter it."
)
SETUP_CODE_NOT_RIGHT = translatable(
    "The code is not right. Check that your app has the key shown on this page, then enter the "
    "code it shows now."
)
ENTER_RECOVERY_CODE = translatable("Enter one of your recovery codes")
# The same words for a wrong code and a used one: only their digests are kept.
RECOVERY_CODE_NOT_RIGHT = translatable(
    "The recovery code is not right, or it has already been used. Check it and try again."
)
TOO_MANY_WRONG_CODES = translatable(
    "There have been too many wrong codes. Wait a few minutes, then try again."
)

# Passkeys (idp.passkeys): the same words whatever the reason, which the access log names.
PASSKEY_SIGN_IN_REFUSED = translatable(
    "Your passkey could not be used to sign in. Try again, and when your device asks, confirm "
    "it is you with your PIN, fingerprint or face. Or sign in with your username and password."
)
PASSKEY_STEP_UP_REFUSED = translatable(
    "Your passkey could not be used. Try again, and when your device asks, confirm it is you "
    "with your PIN, fingerprint or face."
)
