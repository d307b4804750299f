"""Launch: provision (or update) a product's DEFAULT version with an environment's parameters."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.exceptions

from portfolio.apply import idempotency_token
from portfolio.aws import error_code, unless_not_found
from portfolio.current import VersionState, find_product_ids, read_published_versions
from portfolio.errors import PublishError
from portfolio.polling import wait_for
from portfolio.terminate import terminate_provisioned_product
from portfolio.versions import newest_first
from products.environment import INSTANCE_PARAMETER

_DONE = ("SUCCEEDED", "FAILED")
# A provisioned product in one of these was left by a failed launch or update.
_FAILED = ("ERROR", "TAINTED")
_STACK_OUTPUT = "CloudformationStackARN"


@dataclass(frozen=True)
class LaunchResult:
    provisioned_product: str
    provisioned_product_id: str
    version: str
    record_id: str
    outputs: dict[str, str]
    stack_arn: str | None


def provisioned_product_name(product: str, environment: str, instance: str | None = None) -> str:
    """<product>-<environment>, or <product>-<instance>-<environment> for a named instance."""
    return f"{product}-{instance}-{environment}" if instance else f"{product}-{environment}"


@dataclass(frozen=True)
class Launchable:
    """A published product, the version a launch uses and the launch path it goes through."""

    product: str
    product_id: str
    version: VersionState
    path_id: str

    def ids(self) -> dict[str, str]:
        return {
            "ProductId": self.product_id,
            "ProvisioningArtifactId": self.version.id,
            "PathId": self.path_id,
        }


def launch(
    sc: Any,
    region: str,
    product: str,
    environment: str,
    *,
    parameters: dict[str, str],
    progress: Callable[[str], None],
    portfolio: str | None = None,
    product_id: str | None = None,
    instance: str | None = None,
    watch: Callable[[dict[str, Any]], None] | None = None,
) -> LaunchResult:
    """PRODUCT_ID: for a product this account does not own (an imported portfolio's).
    INSTANCE: a named instance (products/environment.py), None for the default one.
    WATCH: called with each DescribeRecord answer while waiting (stack events)."""
    parameters = with_instance(parameters, instance)
    target = launch_target(sc, region, product, portfolio=portfolio, product_id=product_id)
    check_parameters(sc, target, parameters)
    name = provisioned_product_name(product, environment, instance)
    existing = existing_or_recovered(sc, name, product, environment, progress, instance=instance)
    record_id = _start(sc, name, target, parameters, existing)
    progress(f"{name}: {product} {target.version.name} record {record_id}")
    return finish_launch(sc, name, target.version.name, record_id, progress, watch=watch)


def with_instance(parameters: dict[str, str], instance: str | None) -> dict[str, str]:
    """PARAMETERS with the InstanceName a named instance's template needs."""
    return {**parameters, INSTANCE_PARAMETER: instance} if instance else parameters


def launch_target(
    sc: Any,
    region: str,
    product: str,
    *,
    portfolio: str | None = None,
    product_id: str | None = None,
) -> Launchable:
    """The product, its version to launch and the launch path through PORTFOLIO."""
    product_id = product_id or find_product_ids(sc, {product}).get(product)
    if product_id is None:
        raise PublishError(f"{region}: product {product!r} is not published; run publish first")
    version = launch_version(sc, region, product, product_id)
    return Launchable(
        product, product_id, version, _launch_path(sc, region, product, product_id, portfolio)
    )


def finish_launch(
    sc: Any,
    name: str,
    version: str,
    record_id: str,
    progress: Callable[[str], None],
    *,
    watch: Callable[[dict[str, Any]], None] | None = None,
) -> LaunchResult:
    """Wait for RECORD_ID to end and read what the launch made (raises when it failed)."""
    record = _wait_record(sc, record_id, name, progress, watch)
    detail = sc.describe_provisioned_product(Name=name)["ProvisionedProductDetail"]
    outputs = {
        o["OutputKey"]: o.get("OutputValue", "")
        for o in record.get("RecordOutputs", [])
        if "OutputKey" in o
    }
    # Service Catalog reports the stack as a record output of its own, not a template output.
    stack_arn = outputs.pop(_STACK_OUTPUT, None) or detail.get("PhysicalId")
    return LaunchResult(
        provisioned_product=name,
        provisioned_product_id=detail["Id"],
        version=version,
        record_id=record_id,
        outputs=outputs,
        stack_arn=stack_arn,
    )


def existing_or_recovered(
    sc: Any,
    name: str,
    product: str,
    environment: str,
    progress: Callable[[str], None],
    *,
    instance: str | None = None,
) -> dict[str, Any] | None:
    """The provisioned product NAME to update, or None for a first launch.

    One whose every launch failed (ERROR or TAINTED, never SUCCEEDED: a value the stack refused,
    a name already taken) holds nothing worth keeping and cannot be updated: it is terminated,
    so this launch starts afresh. One that ran before and is now ERROR may hold data: that is
    left to a person, with the command that removes it.
    """
    existing = _existing(sc, name)
    if existing is None or existing.get("Status") not in _FAILED:
        return existing
    reason = existing.get("StatusMessage") or "no reason given"
    if not existing.get("LastSuccessfulProvisioningRecordId"):
        progress(
            f"{name}: {existing['Status']} from a launch that never succeeded ({reason}); "
            "terminating it to launch again"
        )
        terminate_provisioned_product(sc, name, progress)
        return None
    if existing["Status"] == "ERROR":
        named = f" --instance {instance}" if instance else ""
        raise PublishError(
            f"provisioned product {name!r} is ERROR after an earlier successful launch "
            f"({reason}) and cannot be updated; check its stack, then remove it with "
            f"`python build.py terminate {product} --env {environment}{named}` and launch again"
        )
    return existing


def launch_version(sc: Any, region: str, product: str, product_id: str) -> VersionState:
    """The newest active DEFAULT version (what a console user is steered to)."""
    versions = {v.id: v for v in read_published_versions(sc, product_id)}
    ranked = newest_first([v.for_policy() for v in versions.values()])
    for candidate in (versions[r.key] for r in ranked):
        if candidate.active and candidate.guidance == "DEFAULT":
            return candidate
    raise PublishError(f"{region}: {product} has no active DEFAULT version to launch")


def _launch_path(sc: Any, region: str, product: str, product_id: str, portfolio: str | None) -> str:
    """The path through PORTFOLIO (named), whose launch constraint and rules must apply even
    when the product is also in another portfolio."""
    paths = sc.list_launch_paths(ProductId=product_id).get("LaunchPathSummaries", [])
    ours = [path for path in paths if portfolio is None or path.get("Name") == portfolio]
    if not ours:
        where = f"the portfolio {portfolio!r}" if portfolio else "a portfolio"
        raise PublishError(
            f"{region}: {product} has no launch path through {where}: is it "
            "in the portfolio and is the caller one of its principals?"
        )
    return str(ours[0]["Id"])


def check_parameters(sc: Any, target: Launchable, given: dict[str, str]) -> None:
    """Refuse parameters the version does not declare, and required ones left unset."""
    product = target.product
    declared = sc.describe_provisioning_parameters(**target.ids()).get(
        "ProvisioningArtifactParameters", []
    )
    keys = {p["ParameterKey"] for p in declared}
    unknown = sorted(set(given) - keys)
    if unknown:
        raise PublishError(
            f"{product}: parameter {unknown[0]!r} is not a parameter of the "
            f"template (known: {', '.join(sorted(keys))})"
        )
    missing = sorted(
        p["ParameterKey"]
        for p in declared
        if "DefaultValue" not in p and p["ParameterKey"] not in given
    )
    if missing:
        raise PublishError(
            f"{product}: parameter {missing[0]!r} has no default; set it in "
            f"products.{product}.launch or pass --param {missing[0]}=VALUE"
        )


def listed_parameters(parameters: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in sorted(parameters.items())]


def _start(
    sc: Any,
    name: str,
    target: Launchable,
    parameters: dict[str, str],
    existing: dict[str, Any] | None,
) -> str:
    listed = listed_parameters(parameters)
    common = target.ids()
    if existing is None:
        # A fresh token: AWS would answer a repeated one with its first record, and a product
        # launched again after it was terminated would get that old record back. (botocore's
        # own retries of this call resend the same token; a rerun finds the product and updates.)
        try:
            response = sc.provision_product(
                ProvisionedProductName=name,
                ProvisioningParameters=listed,
                ProvisionToken=uuid.uuid4().hex,
                **common,
            )
        except botocore.exceptions.ClientError as error:
            if error_code(error) != "DuplicateResourceException":
                raise
            raise PublishError(
                f"provisioned product {name!r} was just created by another "
                "launch; wait for it to finish and launch again"
            ) from None
        return str(response["RecordDetail"]["RecordId"])
    # A retry of this very update repeats the token and gets the same record back; the next
    # launch starts after a newer record, so it gets a new token and really runs (the same
    # inputs after a rollback, or after a failed update, must not replay an old record).
    token = idempotency_token(
        "launch",
        name,
        target.version.id,
        existing.get("LastRecordId", ""),
        *(f"{k}={v}" for k, v in sorted(parameters.items())),
    )
    # Exactly the config's values and --param: a parameter neither sets goes back to the
    # template's default, so a launch is reproducible from catalog.yaml alone.
    response = sc.update_provisioned_product(
        ProvisionedProductName=name, ProvisioningParameters=listed, UpdateToken=token, **common
    )
    return str(response["RecordDetail"]["RecordId"])


def _existing(sc: Any, name: str) -> dict[str, Any] | None:
    """The provisioned product NAME, or None when there is none yet."""
    described = unless_not_found(lambda: sc.describe_provisioned_product(Name=name))
    if described is None:
        return None
    detail: dict[str, Any] = described["ProvisionedProductDetail"]
    if detail.get("Status") in ("UNDER_CHANGE", "PLAN_IN_PROGRESS"):
        raise PublishError(
            f"provisioned product {name!r} is {detail['Status']}; "
            "wait for it to finish and launch again"
        )
    return detail


def _wait_record(
    sc: Any,
    record_id: str,
    name: str,
    progress: Callable[[str], None],
    watch: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    seen: list[str] = []

    def check() -> dict[str, Any] | None:
        response: dict[str, Any] = sc.describe_record(Id=record_id)
        if watch is not None:
            watch(response)
        status = response["RecordDetail"]["Status"]
        if not seen or seen[-1] != status:
            seen.append(status)
            progress(f"{name}: {status}")
        return response if status in _DONE else None

    response = wait_for(check, f"provisioning of {name} (record {record_id})")
    record = response["RecordDetail"]
    if record["Status"] == "FAILED":
        reasons = "; ".join(e.get("Description", "") for e in record.get("RecordErrors", []))
        raise PublishError(f"provisioning of {name} failed: {reasons or 'no reason given'}")
    return _all_outputs(sc, record_id, response)


def _all_outputs(sc: Any, record_id: str, first: dict[str, Any]) -> dict[str, Any]:
    # DescribeRecord pages RecordOutputs; follow NextPageToken so no output is lost.
    outputs = list(first.get("RecordOutputs", []))
    token = first.get("NextPageToken")
    while token:
        page = sc.describe_record(Id=record_id, PageToken=token)
        outputs += page.get("RecordOutputs", [])
        token = page.get("NextPageToken")
    return {**first, "RecordOutputs": outputs}
