"""SSRF guard: IPv6 addresses that carry an IPv4 host (6to4, Teredo, IPv4-mapped, NAT64) are
judged by that host, so a forbidden IPv4 cannot be reached through a tunnel or translator.

None of these tests sends a packet: the suite's network guard fails any test that even tries
to connect beyond loopback.
"""

from __future__ import annotations

import ipaddress

import pytest
from health_netguard import RefusedAddressError, refusal_reason, resolve_allowed
from oncall_shared.errors import SettingsError


def teredo(server: str, client: str) -> str:
    """2001:0:<server>:<flags>:<port ^ 0xffff>:<client ^ 0xffffffff> (RFC 4380)."""
    value = (0x20010000 << 96) | (int(ipaddress.IPv4Address(server)) << 64)
    value |= 0x8000 << 48 | (0xFFFF ^ 40000) << 32
    value |= 0xFFFFFFFF ^ int(ipaddress.IPv4Address(client))
    return str(ipaddress.IPv6Address(value))


ALWAYS_REFUSED = {
    "6to4 of IMDS": "2002:a9fe:a9fe::",
    "6to4 of IMDS, host bits set": "2002:a9fe:a9fe:1:2:3:4:5",
    "6to4 of link-local": "2002:a9fe:0101::1",
    "6to4 of 0.0.0.0": "2002::1",
    "Teredo client IMDS": teredo("65.54.227.120", "169.254.169.254"),
    "Teredo server IMDS": teredo("169.254.169.254", "93.184.216.34"),
    "IPv4-mapped IMDS": "::ffff:169.254.169.254",
    "NAT64 of IMDS": "64:ff9b::a9fe:a9fe",
    "NAT64 local-use prefix": "64:ff9b:1::a9fe:a9fe",
    "IPv4-compatible (deprecated)": "::a9fe:a9fe",
    "Route 53 Resolver IPv6": "fd00:ec2::253",
    "Time Sync IPv6": "fd00:ec2::123",
}


@pytest.mark.parametrize("case", sorted(ALWAYS_REFUSED))
def test_tunnelled_metadata_and_link_local_are_refused_even_when_private_is_allowed(case):
    address = ipaddress.ip_address(ALWAYS_REFUSED[case])
    assert refusal_reason(address, allow_private=True) is not None
    with pytest.raises(RefusedAddressError, match="resolves to"):
        resolve_allowed(str(address), 80, allow_private=True)


PRIVATE = {
    "6to4 of 10.0.0.1": "2002:a00:1::",
    "6to4 of loopback": "2002:7f00:1::",
    "6to4 of CGNAT": "2002:6440:1::",
    "Teredo client 10.0.0.1": teredo("65.54.227.120", "10.0.0.1"),
    "IPv4-mapped 192.168.1.1": "::ffff:192.168.1.1",
    "NAT64 of 172.16.0.1": "64:ff9b::ac10:1",
}


@pytest.mark.parametrize("case", sorted(PRIVATE))
def test_tunnelled_private_addresses_need_the_allowance(case):
    address = ipaddress.ip_address(PRIVATE[case])
    reason = refusal_reason(address, allow_private=False) or ""
    assert "ALLOW_PRIVATE_NETWORKS" in reason and "embedded IPv4" in reason
    assert refusal_reason(address, allow_private=True) is None


@pytest.mark.parametrize(
    "address",
    ["2002:5db8:d822::", teredo("65.54.227.120", "93.184.216.34"), "64:ff9b::5db8:d822"],
)
def test_tunnels_to_public_hosts_pass(address):
    assert refusal_reason(ipaddress.ip_address(address), allow_private=False) is None


def test_teredo_reads_the_inverted_client_address():
    # The client 10.0.0.1 is stored as f5ff:fffe: read plainly it would look public.
    address = ipaddress.ip_address(teredo("65.54.227.120", "10.0.0.1"))
    assert str(address).endswith(":f5ff:fffe")
    assert refusal_reason(address, allow_private=False) is not None


def test_a_6to4_literal_in_targets_is_refused_when_the_settings_are_read(
    health_aws, set_targets, load_handler, lambda_context, event, monkeypatch
):
    monkeypatch.setenv("ALLOW_PRIVATE_NETWORKS", "true")
    set_targets([{"name": "imds", "type": "http", "url": "http://[2002:a9fe:a9fe::]/latest"}])
    app = load_handler("health_checker")

    with pytest.raises(SettingsError, match=r"instance metadata address \(embedded IPv4\)"):
        app.lambda_handler(event("health_scheduled_event"), lambda_context)
