"""Server-side request forgery guard: decide whether a URL may be fetched, before connecting."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})


class BlockedURL(Exception):
    """The URL points somewhere the pipeline must not reach."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


def _refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, allow_private: bool) -> str | None:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # Link-local covers cloud metadata endpoints (169.254.169.254, fe80::); never allowed,
    # not even with allow_private, because nothing legitimate in a feed lives there.
    if ip.is_link_local:
        return "link-local"
    if ip.is_multicast or ip.is_unspecified:
        return "multicast or unspecified"
    if ip.is_loopback:
        return None if allow_private else "loopback"
    if ip.is_private:
        return None if allow_private else "private"
    if ip.is_reserved or not ip.is_global:
        return None if allow_private else "reserved"
    return None


def resolve(host: str, port: int) -> list[str]:
    """All addresses ``host`` resolves to (literal IPs resolve to themselves)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def check_url(url: str, *, allow_private: bool, resolver=resolve) -> None:
    """Raise :class:`BlockedURL` unless ``url`` is http(s) and every address of its host is public.

    With ``allow_private`` loopback and private ranges are allowed (tests, the demo, intranets).
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise BlockedURL("fetch.blocked_scheme", f"refused scheme {parts.scheme!r} in {url}")
    host = parts.hostname
    if not host:
        raise BlockedURL("fetch.bad_url", f"no host in {url}")
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise BlockedURL("fetch.bad_url", f"bad port in {url}: {exc}") from exc
    try:
        addresses = resolver(host, port)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedURL("fetch.dns", f"cannot resolve {host}: {exc}") from exc
    if not addresses:
        raise BlockedURL("fetch.dns", f"{host} resolves to nothing")
    for address in addresses:
        reason = _refusal(ipaddress.ip_address(address.split("%")[0]), allow_private)
        if reason:
            raise BlockedURL(
                "fetch.blocked_address", f"refused {url}: {host} resolves to {reason} address {address}"
            )
