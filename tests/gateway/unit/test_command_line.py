"""How the command line reads values that may look like options."""

from gateway.cli import build_parser


def test_a_subject_that_begins_with_a_dash_is_read_when_written_with_equals() -> None:
    # Subjects are random base64url, so about one in 64 begins with '-'.
    args = build_parser().parse_args(["audit", "erase", "--subject=-1unM2iIxyomtrIIV7p8mg"])
    assert args.subject == "-1unM2iIxyomtrIIV7p8mg"
