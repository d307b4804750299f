"""Launching products: provisioned products and records, backed by stacks in moto's CloudFormation.

ProvisionProduct / UpdateProvisionedProduct / TerminateProvisionedProduct answer at once with a
record in CREATED state; the stack work runs on a timer thread, so clients poll DescribeRecord
exactly as they do against AWS.
"""

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .admin import AdminBackend, run_later
from .entities import Constraint, Portfolio, Product, ProvisioningArtifact, new_id, tag_list
from .exceptions import (
    DuplicateResourceException,
    InvalidParametersException,
    ResourceNotFoundException,
)
from .rules import parameter_values, rule_violations
from .stacks import StackFailure, StackRunner

logger = logging.getLogger("localcloud.servicecatalog")
TERMINATE_WAIT_SECONDS = 30.0
ASYNC_POLL_SECONDS = 0.02


@dataclass
class Record:
    id: str
    record_type: str
    provisioned_product: "ProvisionedProduct"
    artifact_id: str
    path_id: str
    status: str = "CREATED"
    created_time: float = field(default_factory=time.time)
    updated_time: float = field(default_factory=time.time)
    errors: list[dict[str, str]] = field(default_factory=list)
    outputs: list[dict[str, str]] = field(default_factory=list)

    def move(self, status: str) -> None:
        self.status = status
        self.updated_time = time.time()

    def detail(self) -> dict[str, Any]:
        pp = self.provisioned_product
        detail: dict[str, Any] = {
            "RecordId": self.id,
            "ProvisionedProductName": pp.name,
            "Status": self.status,
            "CreatedTime": self.created_time,
            "UpdatedTime": self.updated_time,
            "ProvisionedProductType": "CFN_STACK",
            "RecordType": self.record_type,
            "ProvisionedProductId": pp.id,
            "ProductId": pp.product_id,
            "ProvisioningArtifactId": self.artifact_id,
            "PathId": self.path_id,
            "RecordErrors": self.errors,
            "RecordTags": tag_list(pp.tags),
        }
        if pp.launch_role_arn:
            detail["LaunchRoleArn"] = pp.launch_role_arn
        return detail


@dataclass
class ProvisionedProduct:
    id: str
    arn: str
    name: str
    product_id: str
    artifact_id: str
    path_id: str
    token: str
    tags: dict[str, str]
    launch_role_arn: str | None
    parameters: dict[str, str] = field(default_factory=dict)
    status: str = "UNDER_CHANGE"
    status_message: str = ""
    created_time: float = field(default_factory=time.time)
    stack_id: str | None = None
    last_record_id: str = ""
    last_provisioning_record_id: str = ""
    last_successful_record_id: str | None = None

    def detail(self) -> dict[str, Any]:
        detail: dict[str, Any] = {
            "Name": self.name,
            "Arn": self.arn,
            "Type": "CFN_STACK",
            "Id": self.id,
            "Status": self.status,
            "CreatedTime": self.created_time,
            "IdempotencyToken": self.token,
            "LastRecordId": self.last_record_id,
            "LastProvisioningRecordId": self.last_provisioning_record_id,
            "ProductId": self.product_id,
            "ProvisioningArtifactId": self.artifact_id,
        }
        if self.status_message:
            detail["StatusMessage"] = self.status_message
        if self.last_successful_record_id:
            detail["LastSuccessfulProvisioningRecordId"] = self.last_successful_record_id
        if self.launch_role_arn:
            detail["LaunchRoleArn"] = self.launch_role_arn
        return detail


@dataclass(frozen=True)
class LaunchPath:
    id: str
    portfolio: Portfolio


def path_id_of(portfolio: Portfolio) -> str:
    # One launch path per portfolio; a stable id lets clients pass PathId between calls.
    return "lpv3-" + portfolio.id.removeprefix("port-")


class Provisioner:
    """Provisioned products and records of one account and region."""

    def __init__(self, admin: AdminBackend) -> None:
        self.admin = admin
        self.stacks = StackRunner(admin.account_id, admin.region)
        self.provisioned: dict[str, ProvisionedProduct] = {}
        self.records: dict[str, Record] = {}
        self.tokens: dict[tuple[str, str], str] = {}
        self.planner: Any = None  # plans.Planner, made by plans.planner_of on first use

    # ---- launch paths and parameters --------------------------------------------------------
    def launch_paths(self, product: Product) -> list[Portfolio]:
        own = [p for p in self.admin.portfolios.values() if product.id in p.product_ids]
        imported = [p for p in self.admin.imported_portfolios() if product.id in p.product_ids]
        return own + imported

    def launch_path(
        self, product: Product, path_id: str | None, path_name: str | None
    ) -> LaunchPath:
        paths = [LaunchPath(path_id_of(p), p) for p in self.launch_paths(product)]
        if not paths:
            raise ResourceNotFoundException(f"No launch paths found for resource: {product.id}")
        chosen = [
            p
            for p in paths
            if (path_id is None or p.id == path_id)
            and (path_name is None or p.portfolio.display_name == path_name)
        ]
        if not chosen:
            raise ResourceNotFoundException(
                f"Launch path {path_id or path_name} not found for {product.id}"
            )
        if len(chosen) > 1:
            raise InvalidParametersException(
                f"Product {product.id} has {len(chosen)} launch paths; specify PathId."
            )
        return chosen[0]

    def path_constraints(self, product: Product, path: LaunchPath) -> list[Constraint]:
        return self.admin.constraints_for(path.portfolio.id, product.id)

    def parameter_summaries(self, artifact: ProvisioningArtifact) -> list[dict[str, Any]]:
        template = self.template_of(artifact)
        return [
            _parameter_summary(name, spec)
            for name, spec in (template.get("Parameters") or {}).items()
        ]

    def output_keys(self, artifact: ProvisioningArtifact) -> list[dict[str, str]]:
        outputs = self.template_of(artifact).get("Outputs") or {}
        return [
            {"Key": key, "Description": spec.get("Description", "")}
            for key, spec in outputs.items()
        ]

    def template_of(self, artifact: ProvisioningArtifact) -> dict[str, Any]:
        if artifact.status != "AVAILABLE" or artifact.template is None:
            raise InvalidParametersException(
                f"Provisioning artifact {artifact.id} is {artifact.status}"
                + (f": {artifact.failure}" if artifact.failure else "")
            )
        return artifact.template

    def artifact_in_use(self, artifact_id: str) -> bool:
        return any(pp.artifact_id == artifact_id for pp in self.provisioned.values())

    # ---- lookups ------------------------------------------------------------------------------
    def provisioned_product(self, pp_id: str | None, name: str | None) -> ProvisionedProduct:
        if not pp_id and not name:
            raise InvalidParametersException(
                "Either ProvisionedProductId or ProvisionedProductName must be specified."
            )
        for pp in self.provisioned.values():
            if pp.id == pp_id or (pp_id is None and pp.name == name):
                return pp
        raise ResourceNotFoundException(f"Provisioned product {pp_id or name} not found.")

    def record(self, record_id: str) -> Record:
        found = self.records.get(record_id)
        if found is None:
            raise ResourceNotFoundException(f"Record {record_id} not found.")
        return found

    def _replay(self, operation: str, token: str) -> Record | None:
        record_id = self.tokens.get((operation, token))
        return self.records.get(record_id) if record_id else None

    # ---- provision ----------------------------------------------------------------------------
    def provision(self, params: dict[str, Any]) -> Record:
        replayed = self._replay("ProvisionProduct", params["ProvisionToken"])
        if replayed is not None:
            return replayed
        product = self.admin.product(params.get("ProductId"), params.get("ProductName"))
        artifact = self.admin.artifact(
            product, params.get("ProvisioningArtifactId"), params.get("ProvisioningArtifactName")
        )
        path = self.launch_path(product, params.get("PathId"), params.get("PathName"))
        check_launchable(artifact, new_launch=True)
        name = params["ProvisionedProductName"]
        if any(pp.name == name for pp in self.provisioned.values()):
            raise DuplicateResourceException(f"A provisioned product named {name} already exists.")
        given = {p["Key"]: p.get("Value", "") for p in params.get("ProvisioningParameters") or []}
        self.check_parameters(product, artifact, path, given)
        pp = self.new_provisioned_product(name, product, artifact, path, params)
        pp.parameters = resolved_parameters(self.template_of(artifact), given)
        self.provisioned[pp.id] = pp
        record = self.start_create(pp, product, artifact, path, params.get("NotificationArns"))
        self.tokens[("ProvisionProduct", params["ProvisionToken"])] = record.id
        return record

    def start_create(
        self,
        pp: ProvisionedProduct,
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
        notification_arns: list[str] | None,
    ) -> Record:
        """Create PP's stack in the background (ProvisionProduct, or a new product's plan)."""
        record = self._new_record("PROVISION_PRODUCT", pp, artifact.id, path.id)
        pp.last_provisioning_record_id = record.id
        notify = [*(notification_arns or []), *self._constraint_notifications(product, path)]
        self._in_background(
            record, "ERROR", lambda: self._run_create(record, product, artifact, path, notify)
        )
        return record

    def new_provisioned_product(
        self,
        name: str,
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
        params: dict[str, Any],
    ) -> ProvisionedProduct:
        pp_id = new_id("pp")
        return ProvisionedProduct(
            id=pp_id,
            arn=f"arn:aws:servicecatalog:{self.admin.region}:{self.admin.account_id}:stack/{name}/{pp_id}",
            name=name,
            product_id=product.id,
            artifact_id=artifact.id,
            path_id=path.id,
            token=params["ProvisionToken"],
            tags={t["Key"]: t["Value"] for t in params.get("Tags") or []},
            launch_role_arn=self._launch_role(product, path),
        )

    def _in_background(self, record: Record, failed_status: str, job: Callable[[], None]) -> None:
        def guarded() -> None:
            if self.admin.retired:
                return
            try:
                job()
            except Exception as error:  # an emulator bug must end the record FAILED, not hang it
                logger.exception("localcloud: %s %s crashed", record.record_type, record.id)
                self._fail(
                    record, failed_status, f"InternalFailure: {type(error).__name__}: {error}"
                )

        run_later(guarded)

    def _new_record(
        self, record_type: str, pp: ProvisionedProduct, artifact_id: str, path_id: str
    ) -> Record:
        record = Record(
            id=new_id("rec"),
            record_type=record_type,
            provisioned_product=pp,
            artifact_id=artifact_id,
            path_id=path_id,
        )
        self.records[record.id] = record
        pp.last_record_id = record.id
        pp.status = "UNDER_CHANGE"
        return record

    def check_parameters(
        self,
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
        given: dict[str, str],
    ) -> None:
        template = self.template_of(artifact)
        declared = template.get("Parameters") or {}
        unknown = sorted(set(given) - set(declared))
        if unknown:
            raise InvalidParametersException(f"Parameters: {unknown} do not exist in the template")
        values = parameter_values(template, given)
        for constraint in self.path_constraints(product, path):
            if constraint.type == "TEMPLATE":
                violations = rule_violations(json.loads(constraint.parameters)["Rules"], values)
                if violations:
                    raise InvalidParametersException("; ".join(violations))

    def _check_tag_update_allowed(self, product: Product, path: LaunchPath) -> None:
        for constraint in self.path_constraints(product, path):
            if constraint.type != "RESOURCE_UPDATE":
                continue
            setting = json.loads(constraint.parameters)["Properties"][
                "TagUpdateOnProvisionedProduct"
            ]
            if setting == "NOT_ALLOWED":
                raise InvalidParametersException(
                    f"Tag updates are not allowed by RESOURCE_UPDATE constraint {constraint.id}."
                )

    def _constraint_notifications(self, product: Product, path: LaunchPath) -> list[str]:
        arns: list[str] = []
        for constraint in self.path_constraints(product, path):
            if constraint.type == "NOTIFICATION":
                arns.extend(json.loads(constraint.parameters)["NotificationArns"])
        return arns

    def _launch_role(self, product: Product, path: LaunchPath) -> str | None:
        launch = [c for c in self.path_constraints(product, path) if c.type == "LAUNCH"]
        if not launch:
            return None
        parameters = json.loads(launch[0].parameters)
        role_arn = parameters.get("RoleArn") or (
            f"arn:aws:iam::{self.admin.account_id}:role/{parameters['LocalRoleName']}"
        )
        if not self.stacks.role_exists(role_arn):
            raise InvalidParametersException(
                f"Launch role {role_arn} of LAUNCH constraint {launch[0].id} does not exist "
                f"in account {self.admin.account_id}."
            )
        return str(role_arn)

    def _stack_tags(
        self,
        pp: ProvisionedProduct,
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
    ) -> dict[str, str]:
        return {
            **pp.tags,
            "aws:servicecatalog:portfolioArn": path.portfolio.arn,
            "aws:servicecatalog:productArn": product.arn,
            "aws:servicecatalog:provisioningArtifactIdentifier": artifact.id,
            "aws:servicecatalog:provisionedProductArn": pp.arn,
        }

    def _run_create(
        self,
        record: Record,
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
        notification_arns: list[str],
    ) -> None:
        pp = record.provisioned_product
        with self.admin.lock:
            record.move("IN_PROGRESS")
        try:
            stack_name = f"SC-{self.admin.account_id}-{pp.id}"
            stack = self.stacks.create(
                name=stack_name,
                template=self.template_of(artifact),
                parameters=pp.parameters,
                tags=self._stack_tags(pp, product, artifact, path),
                role_arn=pp.launch_role_arn,
                notification_arns=notification_arns,
            )
        except StackFailure as failure:
            pp.stack_id = failure.stack_id
            self._fail(record, "ERROR", failure.reason)
            return
        pp.stack_id = stack.stack_id
        self._succeed(record, self.stacks.outputs(stack.stack_id))

    def _succeed(self, record: Record, outputs: list[dict[str, str]]) -> None:
        pp = record.provisioned_product
        with self.admin.lock:
            record.outputs = [
                {
                    "OutputKey": "CloudformationStackARN",
                    "OutputValue": pp.stack_id or "",
                    "Description": "The ARN of the launched Cloudformation Stack",
                },
                *outputs,
            ]
            record.move("SUCCEEDED")
            pp.status, pp.status_message = "AVAILABLE", ""
            pp.last_successful_record_id = record.id

    def _fail(self, record: Record, pp_status: str, reason: str) -> None:
        pp = record.provisioned_product
        with self.admin.lock:
            record.errors = [{"Code": "CloudFormation", "Description": reason}]
            record.move("FAILED")
            pp.status, pp.status_message = pp_status, reason

    # ---- update -------------------------------------------------------------------------------
    def update(self, params: dict[str, Any]) -> Record:
        replayed = self._replay("UpdateProvisionedProduct", params["UpdateToken"])
        if replayed is not None:
            return replayed
        pp = self.provisioned_product(
            params.get("ProvisionedProductId"), params.get("ProvisionedProductName")
        )
        if pp.status not in ("AVAILABLE", "TAINTED"):
            # The API declares no InvalidStateException here; AWS answers InvalidParameters.
            raise InvalidParametersException(
                f"Provisioned product {pp.id} is {pp.status} and cannot be updated."
            )
        product = self.admin.product(
            params.get("ProductId") or pp.product_id, params.get("ProductName")
        )
        artifact = self._update_artifact(product, pp, params)
        check_launchable(artifact, new_launch=False)
        path = self.launch_path(product, params.get("PathId") or pp.path_id, params.get("PathName"))
        given = merge_update_parameters(pp, params.get("ProvisioningParameters") or [])
        self.check_parameters(product, artifact, path, given)
        tags = {t["Key"]: t["Value"] for t in params.get("Tags") or []} or pp.tags
        if tags != pp.tags:
            self._check_tag_update_allowed(product, path)
        record = self.start_update(
            pp, product=product, artifact=artifact, path=path, given=given, tags=tags
        )
        self.tokens[("UpdateProvisionedProduct", params["UpdateToken"])] = record.id
        return record

    def start_update(
        self,
        pp: ProvisionedProduct,
        *,
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
        given: dict[str, str],
        tags: dict[str, str],
    ) -> Record:
        """Update PP's stack in the background (UpdateProvisionedProduct, or a plan)."""
        record = self._new_record("UPDATE_PROVISIONED_PRODUCT", pp, artifact.id, path.id)
        self._in_background(
            record,
            "TAINTED",
            lambda: self._run_update(
                record=record, product=product, artifact=artifact, path=path, given=given, tags=tags
            ),
        )
        return record

    def _update_artifact(
        self, product: Product, pp: ProvisionedProduct, params: dict[str, Any]
    ) -> ProvisioningArtifact:
        artifact_id, artifact_name = (
            params.get("ProvisioningArtifactId"),
            params.get("ProvisioningArtifactName"),
        )
        if not artifact_id and not artifact_name:
            artifact_id = pp.artifact_id
        return self.admin.artifact(product, artifact_id, artifact_name)

    def _run_update(
        self,
        *,
        record: Record,
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
        given: dict[str, str],
        tags: dict[str, str],
    ) -> None:
        pp = record.provisioned_product
        with self.admin.lock:
            record.move("IN_PROGRESS")
        previous_tags = pp.tags
        pp.tags = tags
        try:
            self.stacks.update(
                pp.stack_id or "",
                self.template_of(artifact),
                given,
                tags=self._stack_tags(pp, product, artifact, path),
                role_arn=pp.launch_role_arn,
            )
        except StackFailure as failure:
            pp.tags = previous_tags
            self._fail(record, "TAINTED", failure.reason)
            return
        with self.admin.lock:
            pp.artifact_id = artifact.id
            pp.parameters = resolved_parameters(self.template_of(artifact), given)
        self._succeed(record, self.stacks.outputs(pp.stack_id or ""))

    # ---- terminate ----------------------------------------------------------------------------
    def terminate(self, params: dict[str, Any]) -> Record:
        replayed = self._replay("TerminateProvisionedProduct", params["TerminateToken"])
        if replayed is not None:
            return replayed
        pp = self.provisioned_product(
            params.get("ProvisionedProductId"), params.get("ProvisionedProductName")
        )
        record = self._new_record("TERMINATE_PROVISIONED_PRODUCT", pp, pp.artifact_id, pp.path_id)
        self.tokens[("TerminateProvisionedProduct", params["TerminateToken"])] = record.id
        ignore_errors = bool(params.get("IgnoreErrors"))
        retain = bool(params.get("RetainPhysicalResources"))
        self._in_background(
            record, "TAINTED", lambda: self._run_terminate(record, ignore_errors, retain)
        )
        return record

    def _wait_for_previous_change(self, record: Record) -> None:
        # A termination requested while a change runs starts once that change has finished.
        deadline = time.monotonic() + TERMINATE_WAIT_SECONDS
        while (
            time.monotonic() < deadline and not self.admin.retired and self._change_running(record)
        ):
            time.sleep(ASYNC_POLL_SECONDS)

    def _change_running(self, record: Record) -> bool:
        with self.admin.lock:
            pp_id = record.provisioned_product.id
            return any(
                other.provisioned_product.id == pp_id and other.status in ("CREATED", "IN_PROGRESS")
                for other in self.records.values()
                if other is not record
            )

    def _run_terminate(self, record: Record, ignore_errors: bool, retain: bool) -> None:
        pp = record.provisioned_product
        self._wait_for_previous_change(record)
        with self.admin.lock:
            record.move("IN_PROGRESS")
        try:
            if pp.stack_id and not retain:
                self.stacks.delete(pp.stack_id)
        except StackFailure as failure:
            if not ignore_errors:
                self._fail(record, "TAINTED", failure.reason)
                return
        with self.admin.lock:
            record.move("SUCCEEDED")
            self.provisioned.pop(pp.id, None)

    # ---- queries ------------------------------------------------------------------------------
    def search(self, query: list[str]) -> list[ProvisionedProduct]:
        return [
            pp
            for pp in self.provisioned.values()
            if all(_matches_query(pp, term) for term in query)
        ]


def _matches_query(pp: ProvisionedProduct, term: str) -> bool:
    field_name, _, value = term.partition(":")
    fields = {
        "name": pp.name,
        "id": pp.id,
        "arn": pp.arn,
        "productId": pp.product_id,
        "provisioningArtifactId": pp.artifact_id,
        "status": pp.status,
    }
    if value and field_name in fields:
        return fields[field_name] == value
    return term.lower() in f"{pp.name} {pp.id} {pp.product_id}".lower()


def check_launchable(artifact: ProvisioningArtifact, new_launch: bool) -> None:
    if artifact.status != "AVAILABLE":
        raise InvalidParametersException(
            f"Provisioning artifact {artifact.id} is {artifact.status}"
            + (f": {artifact.failure}" if artifact.failure else "")
        )
    if not artifact.active:
        raise InvalidParametersException(f"Provisioning artifact {artifact.id} is not active.")
    if new_launch and artifact.guidance == "DEPRECATED":
        # DEPRECATED blocks new launches but still lets existing provisioned products update.
        raise InvalidParametersException(
            f"Provisioning artifact {artifact.id} is DEPRECATED: no new launches."
        )


def resolved_parameters(template: dict[str, Any], given: dict[str, str]) -> dict[str, str]:
    """What the stack holds: the given values, and the template's defaults for the others (so a
    later update may keep a defaulted value with UsePreviousValue, as CloudFormation allows)."""
    defaults = {
        key: str(spec["Default"])
        for key, spec in (template.get("Parameters") or {}).items()
        if isinstance(spec, dict) and "Default" in spec
    }
    return {**defaults, **given}


def merge_update_parameters(
    pp: ProvisionedProduct, updates: list[dict[str, Any]]
) -> dict[str, str]:
    merged: dict[str, str] = {}
    for entry in updates:
        key = entry.get("Key")
        if not key:
            raise InvalidParametersException("Every ProvisioningParameters entry needs a Key.")
        if entry.get("UsePreviousValue"):
            if key not in pp.parameters:
                raise InvalidParametersException(f"Parameter {key} has no previous value to use.")
            merged[key] = pp.parameters[key]
        else:
            merged[key] = entry.get("Value", "")
    return merged


_CONSTRAINT_KEYS = {
    "AllowedValues": "AllowedValues",
    "AllowedPattern": "AllowedPattern",
    "ConstraintDescription": "ConstraintDescription",
    "MaxLength": "MaxLength",
    "MinLength": "MinLength",
    "MaxValue": "MaxValue",
    "MinValue": "MinValue",
}


def _parameter_summary(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    constraints: dict[str, Any] = {}
    for source, target in _CONSTRAINT_KEYS.items():
        if source in spec:
            value = spec[source]
            constraints[target] = [str(v) for v in value] if isinstance(value, list) else str(value)
    summary: dict[str, Any] = {
        "ParameterKey": name,
        "ParameterType": str(spec.get("Type", "String")),
        "IsNoEcho": bool(spec.get("NoEcho", False)),
        "Description": str(spec.get("Description", "")),
        "ParameterConstraints": constraints,
    }
    if "Default" in spec:
        summary["DefaultValue"] = str(spec["Default"])
    return summary
