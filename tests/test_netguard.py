"""The SSRF guard decides before any connection: schemes, then every address the host resolves to.

Nothing here opens a socket. Hostnames resolve through a ``resolver=`` stub; literal IPs go through
the real ``resolve`` (getaddrinfo on a numeric address answers without asking anyone).
"""

from __future__ import annotations

import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from enrich.netguard import BlockedURL, check_url, resolve


def resolver_for(*addresses: str):
    """A resolver stub answering ``addresses`` for any host, recording what it was asked."""

    def stub(host: str, port: int) -> list[str]:
        stub.asked.append((host, port))
        return list(addresses)

    stub.asked = []
    return stub


def refusal_key(url: str, *, allow_private: bool, resolver=resolve) -> str | None:
    try:
        check_url(url, allow_private=allow_private, resolver=resolver)
    except BlockedURL as exc:
        return exc.key
    return None


# -- schemes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("url", [
    "file:///etc/passwd",
    "ftp://127.0.0.1/pub/file.txt",
    "gopher://127.0.0.1:70/_GET%20/",
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "dict://127.0.0.1:11211/stats",
])
@pytest.mark.parametrize("allow_private", [False, True])
def test_non_http_schemes_are_refused_before_resolving(url, allow_private):
    resolver = resolver_for("93.184.216.34")
    assert refusal_key(url, allow_private=allow_private, resolver=resolver) == "fetch.blocked_scheme"
    assert resolver.asked == []


@pytest.mark.parametrize("url", ["http://news.example/a", "https://news.example/a", "HTTPS://News.Example/a"])
def test_http_and_https_on_a_public_address_are_allowed(url):
    resolver = resolver_for("93.184.216.34")
    check_url(url, allow_private=False, resolver=resolver)  # no exception: allowed
    assert resolver.asked == [("news.example", 443 if url.lower().startswith("https") else 80)]


def test_public_ipv6_address_is_allowed():
    check_url("https://news.example/", allow_private=False, resolver=resolver_for("2606:2800:220:1:248:1893:25c8:1946"))


def test_url_without_a_host_is_a_bad_url():
    assert refusal_key("http:///path/only", allow_private=True) == "fetch.bad_url"


def test_url_with_a_nonsense_port_is_a_bad_url():
    assert refusal_key("http://news.example:99999/", allow_private=True,
                       resolver=resolver_for("93.184.216.34")) == "fetch.bad_url"


# -- loopback and private ranges: refused unless allow_private -------------------------------
@pytest.mark.parametrize("url", [
    "http://127.0.0.1/",
    "http://127.1.2.3:8080/admin",
    "http://[::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6 loopback
    "http://2130706433/",  # 127.0.0.1 as one decimal number: getaddrinfo reads it, so does the guard
])
def test_loopback_literals_are_refused_unless_private_allowed(url):
    assert refusal_key(url, allow_private=False) == "fetch.blocked_address"
    assert refusal_key(url, allow_private=True) is None


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.0.0.5", "10.255.255.254", "172.16.0.1", "172.31.255.254", "192.168.1.10",
    "fc00::1", "fd12:3456:789a::1", "::ffff:10.0.0.5", "::ffff:192.168.0.1",
])
def test_hostname_resolving_to_loopback_or_private_is_refused_unless_private_allowed(address):
    resolver = resolver_for(address)
    assert refusal_key("http://intranet.example/", allow_private=False, resolver=resolver) == "fetch.blocked_address"
    assert refusal_key("http://intranet.example/", allow_private=True, resolver=resolver) is None


@pytest.mark.parametrize("address", ["172.15.255.254", "172.32.0.1", "11.0.0.1", "192.169.0.1"])
def test_addresses_just_outside_the_private_ranges_are_allowed(address):
    assert refusal_key("http://edge.example/", allow_private=False, resolver=resolver_for(address)) is None


def test_refusal_message_names_the_host_and_address():
    with pytest.raises(BlockedURL) as info:
        check_url("http://intranet.example/x", allow_private=False, resolver=resolver_for("10.0.0.5"))
    assert "intranet.example" in str(info.value) and "10.0.0.5" in str(info.value)


# -- link-local / metadata: refused even with allow_private ----------------------------------
@pytest.mark.parametrize("url", [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/computeMetadata/v1/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",  # the metadata address, IPv4-mapped
    "http://0.0.0.0/",  # "this host": unspecified, never a real destination
    "http://[::]/",
])
@pytest.mark.parametrize("allow_private", [False, True])
def test_link_local_and_unspecified_literals_are_always_refused(url, allow_private):
    assert refusal_key(url, allow_private=allow_private) == "fetch.blocked_address"


@pytest.mark.parametrize("address", ["169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0", "224.0.0.1"])
def test_hostname_resolving_to_link_local_or_multicast_is_refused_even_with_allow_private(address):
    resolver = resolver_for(address)
    assert refusal_key("http://metadata.example/", allow_private=True, resolver=resolver) == "fetch.blocked_address"


# -- every address counts ----------------------------------------------------------------------
@pytest.mark.parametrize("mixed", [
    ("93.184.216.34", "10.0.0.5"),
    ("10.0.0.5", "93.184.216.34"),
    ("93.184.216.34", "2606:2800:220:1::1", "fd00::5"),
    ("93.184.216.34", "127.0.0.1"),
])
def test_hostname_with_a_mix_of_public_and_private_addresses_is_refused(mixed):
    # An attacker controlling DNS can answer both; whichever one the client picks must be safe.
    assert refusal_key("http://mixed.example/", allow_private=False, resolver=resolver_for(*mixed)) \
        == "fetch.blocked_address"


def test_mix_with_a_metadata_address_is_refused_even_with_allow_private():
    resolver = resolver_for("10.0.0.5", "169.254.169.254")
    assert refusal_key("http://mixed.example/", allow_private=True, resolver=resolver) == "fetch.blocked_address"


# -- DNS failures -------------------------------------------------------------------------------
def test_unresolvable_host_is_a_dns_error():
    def nxdomain(host, port):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert refusal_key("http://no-such-host.invalid/", allow_private=False, resolver=nxdomain) == "fetch.dns"


def test_host_resolving_to_nothing_is_a_dns_error():
    assert refusal_key("http://empty.example/", allow_private=True, resolver=resolver_for()) == "fetch.dns"


def test_literal_ip_resolves_to_itself():
    assert resolve("127.0.0.1", 80) == ["127.0.0.1"]
    assert resolve("::1", 80) == ["::1"]


# -- properties over whole ranges --------------------------------------------------------------
@given(st.ip_addresses(network="10.0.0.0/8") | st.ip_addresses(network="172.16.0.0/12")
       | st.ip_addresses(network="192.168.0.0/16") | st.ip_addresses(network="fc00::/7"))
def test_every_private_address_is_refused_without_allow_private(ip):
    assert refusal_key("http://host.example/", allow_private=False, resolver=resolver_for(str(ip))) \
        == "fetch.blocked_address"


@given(st.ip_addresses(network="169.254.0.0/16") | st.ip_addresses(network="fe80::/10"))
def test_every_link_local_address_is_refused_with_allow_private(ip):
    assert refusal_key("http://host.example/", allow_private=True, resolver=resolver_for(str(ip))) \
        == "fetch.blocked_address"
