"""SSRF guard: decide which addresses a probe may connect to, after resolving names ourselves.

The probe connects to the exact address checked here (never re-resolving), so a DNS answer that
changes between check and connect (DNS rebinding) cannot smuggle in a forbidden address.
"""

from __future__ import annotations

import ipaddress
import socket

from oncall_shared.errors import OncallError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Instance metadata (IMDS) answers on these; reaching them would leak the role's credentials.
_METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
)
# The IPv6 addresses of the Route 53 VPC Resolver and the Amazon Time Sync Service: their IPv4
# twins (169.254.169.253, 169.254.169.123) are link-local and always refused, so these are too.
_AMAZON_SERVICE_ADDRESSES = frozenset(
    {ipaddress.ip_address("fd00:ec2::253"), ipaddress.ip_address("fd00:ec2::123")}
)
# Refused even when private networks are allowed: link-local holds IMDS, the Amazon DNS
# resolver alias (169.254.169.253) and the time service.
_ALWAYS_REFUSED = (
    ipaddress.ip_network("169.254.0.0/16"),
    ipaddress.ip_network("fe80::/10"),
    ipaddress.ip_network("0.0.0.0/8"),
    ipaddress.ip_network("::/128"),
)
# Python's is_private does not cover carrier-grade NAT; treat it as private.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# The well-known NAT64 prefix (what the Route 53 Resolver's DNS64 synthesizes): the last 32 bits
# are the IPv4 host the NAT gateway connects to. The local-use prefix 64:ff9b:1::/48 places the
# IPv4 where its operator chose, so it cannot be read back: Python counts it reserved (refused).
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedAddressError(OncallError):
    """A target resolves to an address the health checker must not contact."""


def refusal_reason(address: IpAddress, allow_private: bool) -> str | None:
    """Why ``address`` must not be contacted, or None when it may be."""
    embedded = _embedded_ipv4(address)
    if embedded:
        # Judged by the IPv4 hosts the packets end at, not by the IPv6 range (whose privacy
        # Python's ipaddress answers differently from one version to the next).
        reasons = [refusal_reason(host, allow_private) for host in embedded]
        return next((f"{reason} (embedded IPv4)" for reason in reasons if reason), None)
    reason = _always_refused(address)
    if reason is not None or allow_private:
        return reason
    if address.is_loopback:
        return "loopback address (set ALLOW_PRIVATE_NETWORKS=true to allow)"
    if address.is_private or (address.version == 4 and address in _CGNAT):
        return "private address (set ALLOW_PRIVATE_NETWORKS=true to allow)"
    return None


def _embedded_ipv4(address: IpAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 hosts an IPv6 address leads to: ::ffff:a.b.c.d (IPv4-mapped), 64:ff9b::a.b.c.d
    (NAT64), 2002:aabb:ccdd::/48 (6to4: a relay forwards to aa.bb.cc.dd) and 2001:0::/32
    (Teredo: the server, and the client behind its NAT, whose address is stored inverted).
    IPv4-compatible ::a.b.c.d is deprecated and sits in ::/8, refused as reserved."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    if address in _NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def _always_refused(address: IpAddress) -> str | None:
    if address in _METADATA_ADDRESSES:
        return "instance metadata address"
    if address in _AMAZON_SERVICE_ADDRESSES:
        return "Amazon DNS or time service address"
    if any(address in network for network in _ALWAYS_REFUSED if network.version == address.version):
        return "link-local or unspecified address"
    # ::1 sits inside IPv6's reserved ::/8, but it is loopback: judged with the private ranges.
    if (address.is_multicast or address.is_reserved) and not address.is_loopback:
        return "multicast or reserved address"
    return None


def literal_address(host: str) -> IpAddress | None:
    """The IP when ``host`` is an address literal (brackets allowed), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def resolve_allowed(host: str, port: int, allow_private: bool) -> str:
    """Resolve ``host`` and return one address to connect to.

    Every resolved address must pass: a name that resolves to both a public and a forbidden
    address is refused, since which one a client picks is not ours to decide.
    """
    addresses = _resolve(host, port)
    for address in addresses:
        reason = refusal_reason(address, allow_private)
        if reason is not None:
            raise RefusedAddressError(f"host {host!r} resolves to {address}: {reason}")
    return str(addresses[0])


def _resolve(host: str, port: int) -> list[IpAddress]:
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedAddressError(f"host {host!r} does not resolve: {error}") from None
    addresses: list[IpAddress] = []
    for info in infos:
        # Strip an IPv6 zone id ("fe80::1%eth0") before parsing.
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedAddressError(f"host {host!r} resolves to no address")
    return addresses
