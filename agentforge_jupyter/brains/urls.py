"""Which addresses a brain (or the server extension) may send requests to.

A base URL decides where prompts, data summaries and maybe an API key go. Link-local and cloud
metadata addresses (169.254.0.0/16, fe80::/10, 169.254.169.254, fd00:ec2::254, 100.100.100.200)
are refused in every spelling unless the user passes an explicit flag: IPv4-mapped or
-compatible IPv6 (``[::ffff:169.254.169.254]``), and the integer, hex and octal forms that
``inet_aton`` accepts (``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376``). Loopback and
private ranges stay allowed, for local servers, but are named as such so listings show them.

Host names are not resolved here (no network at configuration time); the well-known metadata
names are refused as if they were the address.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .errors import BrainConfigError

__all__ = ["ALLOW_LINK_LOCAL_FLAG", "Endpoint", "UnsafeEndpointError", "check_base_url"]

EndpointKind = Literal["public", "private", "loopback", "link-local"]
ALLOW_LINK_LOCAL_FLAG = "--allow-link-local"
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200")
)
_METADATA_NAMES = frozenset(
    {"metadata", "metadata.google.internal", "instance-data", "instance-data.ec2.internal"}
)


class UnsafeEndpointError(BrainConfigError):
    """A base URL points at a link-local or cloud-metadata address."""


@dataclass(frozen=True)
class Endpoint:
    """What a base URL points at. ``address`` is the parsed IP, or None for a host name."""

    url: str
    host: str
    kind: EndpointKind
    address: str | None = None

    @property
    def label(self) -> str:
        """Short text for listings ("" for a public address)."""
        return "" if self.kind == "public" else self.kind


def _literal_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        try:  # the forms C's inet_aton accepts: 2852039166, 0xa9fea9fe, 0251.0376.0251.0376
            packed = socket.inet_aton(host)
        except (OSError, ValueError):
            return None
        if not all(part.strip() for part in host.split(".")) or " " in host:
            return None
        return ipaddress.IPv4Address(packed)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        packed6 = address.packed
        if packed6[:12] == bytes(12) and int(address) > 1:  # IPv4-compatible ::a.b.c.d
            return ipaddress.IPv4Address(packed6[12:])
    return address


def _kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> EndpointKind:
    if address in _METADATA_ADDRESSES or address.is_link_local:
        return "link-local"
    if address.is_loopback or address.is_unspecified:
        return "loopback"
    if address.is_private or address.is_reserved or address.is_multicast:
        return "private"
    if isinstance(address, ipaddress.IPv4Address) and address in ipaddress.ip_network(
        "100.64.0.0/10"
    ):
        return "private"  # carrier-grade NAT, also cloud-internal
    return "public"


def classify(url: str) -> Endpoint:
    """Where ``url`` points, without refusing anything."""
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".").lower()
    address = _literal_address(host) if host else None
    if address is not None:
        return Endpoint(url, host, _kind(address), str(address))
    if host in _METADATA_NAMES:
        return Endpoint(url, host, "link-local")
    if host == "localhost" or host.endswith(".localhost"):
        return Endpoint(url, host, "loopback")
    return Endpoint(url, host, "public")


def check_base_url(url: str, *, allow_link_local: bool = False, who: str = "") -> Endpoint:
    """The :class:`Endpoint` of ``url``; raises :class:`UnsafeEndpointError` for link-local
    and cloud-metadata addresses unless ``allow_link_local``. ``who`` names the brain (or
    server setting) in the message."""
    endpoint = classify(url)
    if endpoint.kind == "link-local" and not allow_link_local:
        what = f"{who}: " if who else ""
        shown = (
            f" ({endpoint.address})"
            if endpoint.address and endpoint.address != endpoint.host
            else ""
        )
        raise UnsafeEndpointError(
            f"{what}base_url {url!r} points at a link-local or cloud-metadata address"
            f"{shown}. Requests there can read cloud credentials, so it is refused. If this "
            f"really is your model server, add it again with {ALLOW_LINK_LOCAL_FLAG}."
        )
    return endpoint
