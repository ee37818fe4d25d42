"""Random values: identifiers people paste into command lines never read as an option."""

from idp.opaque_values import new_identifier, new_opaque_value


def test_identifiers_never_begin_with_a_dash_or_underscore() -> None:
    # 2,000 draws: with 2 of 64 first characters redrawn, about 62 would begin with one of them.
    first_characters = {new_identifier()[0] for _ in range(2000)}
    assert not first_characters & {"-", "_"}
    assert len(first_characters) > 50


def test_identifiers_and_opaque_values_are_base64url_of_their_length() -> None:
    assert len(new_identifier()) == 22  # 16 bytes
    assert len(new_opaque_value(32)) == 43
