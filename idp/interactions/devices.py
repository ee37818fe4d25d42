"""What a browser session keeps about where it started: enough for the citizen to recognise it
in their list of sessions ("Firefox on Linux", "192.0.2.0/24"), no more.

The User-Agent is reduced to a browser and a system name, so the stored text carries no version
or build that could single the browser out; the address to its network (IPv4 /24, IPv6 /48), so
the list says roughly where from without keeping where exactly.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# The stored description is "<browser> on <system>", "<browser>" or this: the account page
# splits it again (device_of) to show it in the page's language.
UNKNOWN_BROWSER = "Unknown browser"
_ON = " on "

# A User-Agent longer than this is not read: no real browser sends one, and the regexes need
# not look through a megabyte.
_MAX_USER_AGENT = 1024

# Order matters: browsers name the engines they descend from (Edge and Opera say "Chrome",
# Chrome says "Safari"), so the most specific token is tried first.
_BROWSERS = (
    ("Edge", re.compile(r"\b(?:Edg|EdgA|EdgiOS|Edge)/")),
    ("Opera", re.compile(r"\b(?:OPR|Opera)/|^Opera\b")),
    ("Samsung Internet", re.compile(r"\bSamsungBrowser/")),
    ("Firefox", re.compile(r"\b(?:Firefox|FxiOS)/")),
    ("Chrome", re.compile(r"\b(?:Chrome|CriOS|HeadlessChrome)/")),
    ("Safari", re.compile(r"\bVersion/[\d.]+.*\bSafari/")),
)

# iPhone and iPad before macOS (they say "like Mac OS X"), Android before Linux (Android says
# "Linux"), Chrome OS before Linux. An iPad that asks for desktop pages says "Macintosh" and is
# named macOS: its User-Agent is the Mac's.
_SYSTEMS = (
    ("iPhone", re.compile(r"\biPhone\b")),
    ("iPad", re.compile(r"\biPad\b")),
    ("Android", re.compile(r"\bAndroid\b")),
    ("Windows", re.compile(r"\bWindows\b")),
    ("macOS", re.compile(r"\bMac OS X\b|\bMacintosh\b")),
    ("Chrome OS", re.compile(r"\bCrOS\b")),
    ("Linux", re.compile(r"\bLinux\b|\bX11\b")),
)

IPV4_PREFIX = 24
IPV6_PREFIX = 48


@dataclass(frozen=True)
class Device:
    browser: str | None
    system: str | None


def describe_device(user_agent: str | None) -> str:
    """A short plain description of the browser: "Chrome on Windows", "Firefox", or
    UNKNOWN_BROWSER. At most 100 characters, the column's size."""
    if not user_agent or len(user_agent) > _MAX_USER_AGENT:
        return UNKNOWN_BROWSER
    browser = _first_match(_BROWSERS, user_agent)
    if browser is None:
        return UNKNOWN_BROWSER
    system = _first_match(_SYSTEMS, user_agent)
    return f"{browser}{_ON}{system}" if system else browser


def device_of(description: str | None) -> Device:
    """The browser and system of a stored description (describe_device), for showing it in the
    page's language; sessions started before devices were recorded have none."""
    if not description or description == UNKNOWN_BROWSER:
        return Device(None, None)
    browser, _, system = description.partition(_ON)
    return Device(browser, system or None)


def network_of(address: str | None) -> str | None:
    """The network the source address belongs to ("192.0.2.0/24", "2001:db8:1::/48"), or None
    when the address is unknown or no IP address (a Unix socket)."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    prefix = IPV4_PREFIX if parsed.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


def _first_match(candidates: tuple[tuple[str, re.Pattern[str]], ...], text: str) -> str | None:
    return next((name for name, pattern in candidates if pattern.search(text)), None)
