"""Which address a request came from: the direct peer, or behind trusted proxies the client.

X-Forwarded-For is a list any client can start, so only the entries appended by our own proxies
mean anything (RFC 9700 4.13, ASVS 5.0 4.1.3). Reading from the right, each hop that is a trusted
proxy vouches for the entry before it; the first address that is not a trusted proxy is the
client. A request whose direct peer is not a trusted proxy is its own source, whatever it sends.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from idp.settings import IpNetwork

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The longest textual IPv6 address is 45 characters; anything longer is not one of ours.
_MAX_ADDRESS_LENGTH = 45


def parse_address(text: str) -> IpAddress | None:
    """An IP address as proxies write it (IPv6 possibly in brackets, either with a port), or
    None."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or text[end + 1 :][:1] not in ("", ":"):
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # IPv4 with a port
    if not text or len(text) > _MAX_ADDRESS_LENGTH or "%" in text:
        return None  # zone ids never cross a proxy
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def source_address(
    peer: str | None, forwarded_for: Iterable[str], trusted_proxies: Sequence[IpNetwork]
) -> str | None:
    """The request's source address. `forwarded_for` are the X-Forwarded-For header values in
    the order received; a malformed entry ends the walk at the last address vouched for."""
    if peer is None:
        return None
    current = parse_address(peer)
    if current is None:
        return peer  # not an IP peer (a Unix socket): never a trusted proxy
    if not trusted_proxies:
        return str(current)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    while hops and _is_trusted(current, trusted_proxies):
        previous = parse_address(hops.pop())
        if previous is None:
            break
        current = previous
    return str(current)


def _is_trusted(address: IpAddress, trusted_proxies: Sequence[IpNetwork]) -> bool:
    # `in` is False across IP versions, so mixed lists need no special case.
    return any(address in network for network in trusted_proxies)
