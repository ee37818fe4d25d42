"""What a browser session keeps about where it started: a browser and system named from the
User-Agent (no versions), and the source address's network, not the address."""

from __future__ import annotations

import pytest

from idp.interactions.devices import (
    UNKNOWN_BROWSER,
    Device,
    describe_device,
    device_of,
    network_of,
)

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/124.0.2478.51"
OPERA_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36 OPR/110.0.0.0"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15"
)
CHROME_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"
)
FIREFOX_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) FxiOS/125.0 Mobile/15E148 Safari/605.1.15"
)
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
SAMSUNG_ANDROID = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36"
)
CHROME_OS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (CHROME_WINDOWS, "Chrome on Windows"),
        # Edge and Opera also say Chrome; Chrome also says Safari.
        (EDGE_WINDOWS, "Edge on Windows"),
        (OPERA_MAC, "Opera on macOS"),
        (FIREFOX_LINUX, "Firefox on Linux"),
        (SAFARI_IPHONE, "Safari on iPhone"),
        (SAFARI_MAC, "Safari on macOS"),
        (CHROME_IPAD, "Chrome on iPad"),
        (FIREFOX_IPHONE, "Firefox on iPhone"),
        # Android and Chrome OS also say Linux.
        (CHROME_ANDROID, "Chrome on Android"),
        (SAMSUNG_ANDROID, "Samsung Internet on Android"),
        (CHROME_OS, "Chrome on Chrome OS"),
        # Chrome driven by a program is still Chrome.
        (CHROME_WINDOWS.replace("Chrome/", "HeadlessChrome/"), "Chrome on Windows"),
        # A browser on a system it does not name.
        ("Mozilla/5.0 Firefox/125.0", "Firefox"),
        # Not a browser we can name, or nothing at all.
        ("curl/8.5.0", UNKNOWN_BROWSER),
        ("python-httpx/0.27.0", UNKNOWN_BROWSER),
        ("", UNKNOWN_BROWSER),
        (None, UNKNOWN_BROWSER),
        # No browser sends a User-Agent this long: it is not read.
        (CHROME_WINDOWS + " " * 2000, UNKNOWN_BROWSER),
    ],
)
def test_the_device_is_a_browser_and_a_system(user_agent: str | None, expected: str) -> None:
    described = describe_device(user_agent)
    assert described == expected
    assert len(described) <= 100  # the column's size


def test_no_version_or_build_is_kept() -> None:
    for user_agent in (CHROME_WINDOWS, SAFARI_IPHONE, SAMSUNG_ANDROID, FIREFOX_LINUX):
        assert not any(character.isdigit() for character in describe_device(user_agent))


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("Chrome on Windows", Device("Chrome", "Windows")),
        ("Samsung Internet on Android", Device("Samsung Internet", "Android")),
        ("Chrome on Chrome OS", Device("Chrome", "Chrome OS")),
        ("Firefox", Device("Firefox", None)),
        (UNKNOWN_BROWSER, Device(None, None)),
        (None, Device(None, None)),  # a session started before devices were recorded
    ],
)
def test_a_stored_description_splits_into_browser_and_system(
    stored: str | None, expected: Device
) -> None:
    assert device_of(stored) == expected


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.77", "192.0.2.0/24"),
        ("198.51.100.1", "198.51.100.0/24"),
        ("2001:db8:1234:5678::1", "2001:db8:1234::/48"),
        ("::ffff:203.0.113.9", "203.0.113.0/24"),  # IPv4 written in IPv6
        ("127.0.0.1", "127.0.0.0/24"),
        (None, None),
        ("", None),
        ("/run/gateway.sock", None),  # a Unix socket peer
        ("not an address", None),
    ],
)
def test_the_network_not_the_address_is_kept(address: str | None, expected: str | None) -> None:
    assert network_of(address) == expected
