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


# -- IPv4 addresses carried inside IPv6 ones: judged as the IPv4 address they lead to -------------
EMBEDDING_LOOPBACK = [
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "64:ff9b::7f00:1",  # NAT64 (RFC 6052 well-known prefix) of 127.0.0.1
    "64:ff9b:1:7f00:0:100::",  # NAT64 local-use prefix (RFC 8215), /48 layout, of 127.0.0.1
    "::ffff:7f00:1",  # IPv4-mapped
    "::7f00:1",  # IPv4-compatible (deprecated)
]
EMBEDDING_METADATA = [
    "2002:a9fe:a9fe::",  # 6to4 of 169.254.169.254
    "2002:a9fe:a9fe:1:2:3:4:5",
    "64:ff9b::a9fe:a9fe",  # NAT64 well-known prefix
    "64:ff9b:1:a9fe:a9:fe00::",  # NAT64 local-use prefix, /48 layout (octet 8 skipped)
    "64:ff9b:1::a9fe:a9fe",  # NAT64 local-use prefix, /96 layout
    "::ffff:169.254.169.254",
    "::169.254.169.254",  # IPv4-compatible
    "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo whose (obfuscated) client is 169.254.169.254
]


@pytest.mark.parametrize("address", EMBEDDING_LOOPBACK + ["fec0::1", "feff:ffff::1"])  # the last two: site-local
def test_embedded_loopback_and_site_local_literals_are_refused_before_resolving(address):
    resolver = resolver_for("93.184.216.34")
    assert refusal_key(f"http://[{address}]/", allow_private=False, resolver=resolver) == "fetch.blocked_address"
    assert resolver.asked == []


@pytest.mark.parametrize("address", EMBEDDING_LOOPBACK + ["fec0::1"])
def test_hostname_resolving_to_embedded_loopback_or_site_local_is_refused(address):
    resolver = resolver_for(address)
    assert refusal_key("http://sneaky.example/", allow_private=False, resolver=resolver) == "fetch.blocked_address"
    assert refusal_key("http://sneaky.example/", allow_private=True, resolver=resolver) is None


@pytest.mark.parametrize("address", EMBEDDING_METADATA)
@pytest.mark.parametrize("allow_private", [False, True])
def test_embedded_metadata_address_is_refused_even_with_allow_private(address, allow_private):
    assert refusal_key(f"http://[{address}]/latest/meta-data/", allow_private=allow_private,
                       resolver=resolver_for()) == "fetch.blocked_address"
    assert refusal_key("http://sneaky.example/", allow_private=allow_private,
                       resolver=resolver_for(address)) == "fetch.blocked_address"


def test_refusal_names_the_embedded_address():
    with pytest.raises(BlockedURL, match=r"link-local \(embedding 169\.254\.169\.254\)"):
        check_url("http://sneaky.example/", allow_private=True, resolver=resolver_for("2002:a9fe:a9fe::"))


@pytest.mark.parametrize("address", [
    "2002:5db8:d822::",  # 6to4 of 93.184.216.34
    "64:ff9b::5db8:d822",  # what DNS64 answers for a public IPv4-only site on an IPv6-only network
    "::ffff:93.184.216.34",
])
def test_embedding_of_a_public_address_is_allowed(address):
    assert refusal_key("http://public.example/", allow_private=False, resolver=resolver_for(address)) is None


@pytest.mark.parametrize("address", ["fd00:ec2::254", "100.100.100.200"])  # AWS IPv6 and Alibaba metadata
def test_metadata_services_outside_link_local_are_refused_even_with_allow_private(address):
    assert refusal_key("http://metadata.example/", allow_private=True,
                       resolver=resolver_for(address)) == "fetch.blocked_address"


@given(st.ip_addresses(network="169.254.0.0/16") | st.ip_addresses(network="127.0.0.0/8"))
def test_every_6to4_and_nat64_form_of_loopback_or_link_local_is_refused(ip):
    for form in (f"2002:{int(ip) >> 16:x}:{int(ip) & 0xFFFF:x}::", f"64:ff9b::{ip}"):
        assert refusal_key("http://host.example/", allow_private=False, resolver=resolver_for(form)) \
            == "fetch.blocked_address", form


# -- odd IPv4 spellings: the address the resolver reads them as is what gets checked ----------
@pytest.mark.parametrize("url", [
    "http://2130706433/",  # one decimal number
    "http://0x7f000001/",  # one hex number
    "http://0x7f.1/",
    "http://127.1/",  # a.b: the last part fills three octets
    "http://127.0.1/",
])
def test_odd_spellings_of_loopback_are_refused_without_dns(url):
    resolver = resolver_for("93.184.216.34")
    assert refusal_key(url, allow_private=False, resolver=resolver) == "fetch.blocked_address"
    assert resolver.asked == []  # read as a literal address, never sent to DNS


def test_odd_spelling_of_the_metadata_address_is_refused_even_with_allow_private():
    for url in ("http://2852039166/", "http://0xa9.0xfe.0xa9.0xfe/", "http://169.254.43518/"):
        assert refusal_key(url, allow_private=True, resolver=resolver_for()) == "fetch.blocked_address", url


def test_octal_dotted_quad_is_a_bad_url():
    # httpx refuses leading zeros in a dotted quad, so it never reaches a resolver that reads them as octal.
    assert refusal_key("http://0177.0.0.1/", allow_private=False, resolver=resolver_for()) == "fetch.bad_url"


# -- IDNA: the name checked is the name httpx connects to ------------------------------------
@pytest.mark.parametrize("url, asked", [
    ("http://straße.example/", "xn--strae-oqa.example"),  # IDNA 2008; IDNA 2003 would say strasse.example
    ("http://faß.de/", "xn--fa-hia.de"),
    ("http://Bücher.Example/", "xn--bcher-kva.example"),
    ("http://xn--strae-oqa.example/", "xn--strae-oqa.example"),
])
def test_the_idna_2008_form_is_resolved(url, asked):
    resolver = resolver_for("93.184.216.34")
    check_url(url, allow_private=False, resolver=resolver)
    assert resolver.asked == [(asked, 80)]


@pytest.mark.parametrize("url", [
    "http://☃-⌘.example/",  # symbols: IDNA 2003 allowed them, IDNA 2008 does not
    "http://ＥＸＡＭＰＬＥ.com/",  # fullwidth letters (UTS 46 would map them; httpx does not)
    "http://xn--a.example/",  # punycode that decodes to a disallowed code point
    "http://a\u200db.example/",  # a zero-width joiner outside any context that permits it
])
def test_names_that_are_not_idna_2008_are_refused_before_resolving(url):
    resolver = resolver_for("93.184.216.34")
    assert refusal_key(url, allow_private=True, resolver=resolver) == "fetch.idna"
    assert resolver.asked == []


@pytest.mark.parametrize("url", ["http://[::1/", "http://news.example:0/", "http://news.example:99999999/"])
def test_unparsable_hosts_and_ports_are_bad_urls(url):
    assert refusal_key(url, allow_private=True, resolver=resolver_for("93.184.216.34")) == "fetch.bad_url"


def test_resolve_keeps_the_resolvers_order_and_drops_repeats(monkeypatch):
    answers = [(socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:220:1::1", 80, 0, 0)),
               (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", 80)),
               (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2606:2800:220:1::1", 80, 0, 0))]
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answers)
    assert resolve("news.example", 80) == ["2606:2800:220:1::1", "93.184.216.34"]
