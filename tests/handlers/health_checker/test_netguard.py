"""SSRF guard: which addresses are refused, with and without ALLOW_PRIVATE_NETWORKS."""

from __future__ import annotations

import ipaddress

import pytest
from health_netguard import RefusedAddressError, refusal_reason, resolve_allowed


@pytest.mark.parametrize(
    "address",
    [
        "169.254.169.254",
        "fd00:ec2::254",
        "169.254.10.1",
        "fe80::1",
        "::ffff:169.254.169.254",
        "64:ff9b::a9fe:a9fe",
        "0.0.0.0",
        "224.0.0.1",
    ],
)
def test_metadata_and_link_local_are_refused_even_when_private_is_allowed(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), allow_private=True) is not None


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd12::1"],
)
def test_private_ranges_need_the_explicit_allowance(address: str) -> None:
    ip = ipaddress.ip_address(address)
    assert "ALLOW_PRIVATE_NETWORKS" in (refusal_reason(ip, allow_private=False) or "")
    assert refusal_reason(ip, allow_private=True) is None


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal_reason(ipaddress.ip_address(address), allow_private=False) is None


def test_metadata_address_names_its_reason() -> None:
    reason = refusal_reason(ipaddress.ip_address("169.254.169.254"), allow_private=True)
    assert reason == "instance metadata address"


def test_a_name_is_judged_by_what_it_resolves_to() -> None:
    # "localhost" is not an IP literal: the refusal can only come from resolving it.
    with pytest.raises(RefusedAddressError, match=r"host 'localhost' resolves to .*loopback"):
        resolve_allowed("localhost", 80, allow_private=False)
    assert ipaddress.ip_address(resolve_allowed("localhost", 80, allow_private=True)).is_loopback


def test_unresolvable_name_is_refused_with_the_name() -> None:
    with pytest.raises(RefusedAddressError, match=r"host 'no-such-host.invalid' does not resolve"):
        resolve_allowed("no-such-host.invalid", 80, allow_private=True)
