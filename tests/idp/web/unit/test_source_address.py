"""Which address a request came from (RFC 9700 4.13, ASVS 5.0 4.1.3): X-Forwarded-For only as far as
trusted proxies vouch for it, the right-most address that is not one of them, and never an error."""

from __future__ import annotations

import ipaddress

import pytest

from idp.web.source_address import parse_address, source_address

PROXIES = [ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("2001:db8:ffff::/48")]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        # Not from a trusted proxy: whatever the client wrote is ignored.
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
        # One proxy: the address it appended.
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        # The client's own prefix is not believed, trusted-looking or not.
        ("10.0.0.2", ["10.9.9.9, 192.0.2.1, 198.51.100.1"], "198.51.100.1"),
        # A chain of trusted proxies, in one header or several.
        ("10.0.0.2", ["198.51.100.1, 10.0.0.3"], "198.51.100.1"),
        ("10.0.0.2", ["198.51.100.1", "10.0.0.3"], "198.51.100.1"),
        ("2001:db8:ffff::1", ["[2001:db8:1::5]:4711"], "2001:db8:1::5"),
        # Proxies that add ports or write IPv4 in IPv6.
        ("10.0.0.2", ["198.51.100.1:51234"], "198.51.100.1"),
        ("10.0.0.2", ["::ffff:198.51.100.1"], "198.51.100.1"),
        # A malformed entry ends the walk at the last address vouched for.
        ("10.0.0.2", ["garbage"], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1, garbage, 10.0.0.3"], "10.0.0.3"),
        ("10.0.0.2", [""], "10.0.0.2"),
        ("10.0.0.2", ["198.51.100.1,"], "10.0.0.2"),
        ("10.0.0.2", ["fe80::1%eth0"], "10.0.0.2"),
        ("10.0.0.2", ["1" * 5000], "10.0.0.2"),
        ("10.0.0.2", [], "10.0.0.2"),
        # Peers are written one way, so one client is one source.
        ("::ffff:203.0.113.5", [], "203.0.113.5"),
        ("2001:DB8::0001", [], "2001:db8::1"),
        ("unix-socket", ["198.51.100.1"], "unix-socket"),
        (None, ["198.51.100.1"], None),
    ],
)
def test_source_address(peer: str | None, forwarded_for: list[str], expected: str | None) -> None:
    assert source_address(peer, forwarded_for, PROXIES) == expected


def test_without_trusted_proxies_the_peer_is_the_source() -> None:
    assert source_address("10.0.0.2", ["198.51.100.1"], []) == "10.0.0.2"


@pytest.mark.parametrize(
    "text", ["[::1", "[::1]x", "1.2.3.4:80:90", "999.1.1.1", "", "é", "1.2.3.4/8", "[]"]
)
def test_malformed_addresses_are_none(text: str) -> None:
    assert parse_address(text) is None
