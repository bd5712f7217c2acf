"""Server-side request forgery guard: decide whether a URL may be fetched, and connect only where it decided.

The decision is made on the connection itself: :class:`GuardedBackend` resolves the host httpx is
about to connect to (its IDNA 2008 ASCII form, exactly as httpx encoded it), checks every address,
and connects to one of those same addresses. There is no second lookup for a rebinding DNS server
to answer differently, and no second spelling of the name for the check and the connection to
disagree about.
"""

from __future__ import annotations

import ipaddress
import socket

import httpcore
import httpx
import idna

from enrich.reasons import (
    FETCH_BAD_URL,
    FETCH_BLOCKED_ADDRESS,
    FETCH_BLOCKED_SCHEME,
    FETCH_DNS,
    FETCH_IDNA,
)

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused even with allow_private: link-local hosts the cloud metadata services (169.254.169.254,
# fe80::), and nothing legitimate in a feed lives there, on a multicast group or at "this host".
ALWAYS_REFUSED = frozenset({"link-local", "metadata", "multicast or unspecified"})
# Metadata services outside link-local: AWS's IPv6 IMDS endpoint (a ULA) and Alibaba Cloud's (in
# the carrier-grade NAT range), both otherwise merely "private" and so allowed with allow_private.
METADATA_ADDRESSES = frozenset({ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")})

# IPv6 prefixes that carry an IPv4 address inside: a packet to them may end up at that IPv4 address
# (through a NAT64 gateway, a 6to4 or Teredo relay, or the host's own dual stack), so the IPv4
# address is judged as if it had been asked for directly. 6to4 (2002::/16), Teredo (2001::/32) and
# IPv4-mapped (::ffff:0:0/96) are decoded by ipaddress itself.
NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: IPv4 in the last 32 bits
NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")  # RFC 8215: the operator picks the prefix length
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291, deprecated; old stacks tunnel it to the IPv4 address
# Where RFC 6052 puts the IPv4 octets for each NAT64 prefix length (octet 8 is always skipped).
RFC6052_OCTETS = {48: (6, 7, 9, 10), 56: (7, 9, 10, 11), 64: (9, 10, 11, 12), 96: (12, 13, 14, 15)}


class BlockedURL(Exception):
    """The URL points somewhere the pipeline must not reach."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _category(ip: IPAddress) -> str | None:
    """What kind of non-public address ``ip`` is (None: a public one)."""
    if ip in METADATA_ADDRESSES:
        return "metadata"
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast or ip.is_unspecified:
        return "multicast or unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_private:
        return "private"
    # fec0::/10 was deprecated (RFC 3879) but Python still counts it as global; it is the old private range.
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


def _destinations(ip: IPAddress) -> list[IPAddress]:
    """The addresses a packet to ``ip`` may end up at: itself, and any IPv4 address it carries."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    # These two are only ever their IPv4 address: a dual-stack socket, or the NAT64 gateway, turns
    # them into exactly that (so DNS64 answers for public sites stay allowed).
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    if ip in NAT64_WELL_KNOWN:
        return [ipaddress.IPv4Address(ip.packed[12:])]
    found: list[IPAddress] = [ip]
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found += ip.teredo  # (server, client), the client already de-obfuscated
    if ip in IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves, not compatible addresses
        found.append(ipaddress.IPv4Address(ip.packed[12:]))
    if ip in NAT64_LOCAL_USE:
        # The operator picks the prefix length, so every RFC 6052 layout is read; the wrong ones give
        # junk (0.0.0.0, say), so from them only a metadata address counts. The prefix itself is not
        # global: without allow_private it is refused anyway.
        readings = (ipaddress.IPv4Address(bytes(ip.packed[i] for i in octets)) for octets in RFC6052_OCTETS.values())
        found += [v4 for v4 in readings if _category(v4) in {"link-local", "metadata"}]
    return found


def refusal(address: str, allow_private: bool) -> str | None:
    """Why connecting to ``address`` is refused (None: allowed), judging every address it leads to."""
    ip = ipaddress.ip_address(address)
    found = [(category, to) for to in _destinations(ip) if (category := _category(to))]
    refused = [(category, to) for category, to in found if category in ALWAYS_REFUSED] or ([] if allow_private else found)
    if not refused:
        return None
    category, to = refused[0]
    return category if to == ip else f"{category} (embedding {to})"


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order of preference (literal IPs resolve to themselves)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _numeric_address(host: str) -> str | None:
    """The address ``host`` spells, however oddly (``2130706433``, ``0x7f.1``, ``0177.0.0.1``), without DNS."""
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return infos[0][4][0]


def screen_url(url: str, *, allow_private: bool) -> httpx.URL:
    """Everything the guard can decide without DNS; returns the URL as httpx will request it.

    Raises :class:`BlockedURL` for other schemes, unparsable URLs and ports, names that are not
    valid IDNA 2008, and literal addresses (in any spelling the resolver accepts) that are refused.
    """
    try:
        parsed = httpx.URL(url)
        parsed.host  # noqa: B018 - decoding the ASCII form fails on broken punycode ("xn--a")
    except (httpx.InvalidURL, idna.IDNAError) as exc:
        invalid_idna = isinstance(exc, idna.IDNAError) or isinstance(exc.__context__, idna.IDNAError)
        key = FETCH_IDNA if invalid_idna else FETCH_BAD_URL
        raise BlockedURL(key, f"bad URL {url!r}: {exc}") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise BlockedURL(FETCH_BLOCKED_SCHEME, f"refused scheme {parsed.scheme!r} in {url}")
    host = parsed.raw_host.decode("ascii")
    if not host:
        raise BlockedURL(FETCH_BAD_URL, f"no host in {url}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise BlockedURL(FETCH_BAD_URL, f"bad port {parsed.port} in {url}")
    address = _numeric_address(host)
    if address is not None:
        _check_address(host, address, allow_private)
    return parsed


def _check_address(host: str, address: str, allow_private: bool) -> None:
    reason = refusal(address, allow_private)
    if reason:
        raise BlockedURL(FETCH_BLOCKED_ADDRESS, f"refused {host}: it resolves to {reason} address {address}")


def checked_addresses(host: str, port: int, *, allow_private: bool, resolver=resolve) -> list[str]:
    """Resolve ``host`` once and return its addresses if every one of them is allowed.

    Every address counts: a DNS server can answer a public and a private one together, and the
    one the connection picks must be safe.
    """
    try:
        addresses = resolver(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedURL(FETCH_DNS, f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise BlockedURL(FETCH_DNS, f"{host} resolves to nothing")
    for address in addresses:
        _check_address(host, address, allow_private)
    return addresses


def check_url(url: str, *, allow_private: bool, resolver=resolve) -> list[str]:
    """Raise :class:`BlockedURL` unless ``url`` is http(s) and every address of its host is allowed.

    With ``allow_private`` loopback and private ranges are allowed (tests, the demo, intranets).
    Returns the addresses checked. :func:`enrich.fetch.fetch` does not call this: its connections
    make the same check themselves (:class:`GuardedBackend`), on the lookup they connect with.
    """
    parsed = screen_url(url, allow_private=allow_private)
    port = parsed.port or DEFAULT_PORTS[parsed.scheme]
    return checked_addresses(parsed.raw_host.decode("ascii"), port, allow_private=allow_private, resolver=resolver)


class GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses the guard checked on this very lookup.

    httpcore hands ``connect_tcp`` the host of the request's origin; TLS (SNI and certificate
    checks) and the Host header keep using that name, only the TCP connection goes to the pinned
    address. Refusals raise :class:`BlockedURL`, which httpx passes through unchanged.
    """

    def __init__(self, *, allow_private: bool, resolver=resolve) -> None:
        self.allow_private = allow_private
        self.resolver = resolver

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = checked_addresses(host, port, allow_private=self.allow_private, resolver=self.resolver)
        # Like socket.create_connection: try each address in turn, report the last failure.
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure
