"""Provisioned product plans: what a launch or an update would change, before it runs.

CreateProvisionedProductPlan answers at once (CREATE_IN_PROGRESS); a moment later the plan is
CREATE_SUCCESS with its ResourceChanges, or CREATE_FAILED with the reason CloudFormation would
give (a parameter outside its AllowedValues, a failed Rules assertion). A plan for a name not
launched yet creates the provisioned product in PLAN_IN_PROGRESS, as AWS does; deleting the
plan before it runs removes it again. ExecuteProvisionedProductPlan provisions or updates
through the same record machinery as ProvisionProduct / UpdateProvisionedProduct, and the plan's
status follows that record (EXECUTE_IN_PROGRESS, EXECUTE_SUCCESS, EXECUTE_FAILED).
"""

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from .admin import run_later
from .entities import Product, ProvisioningArtifact, new_id, tag_list
from .exceptions import (
    InvalidParametersException,
    InvalidStateException,
    ResourceNotFoundException,
)
from .plan_changes import StackState, resource_changes
from .provisioning import (
    LaunchPath,
    ProvisionedProduct,
    Provisioner,
    Record,
    check_launchable,
    merge_update_parameters,
    resolved_parameters,
)
from .stacks import preflight_errors

logger = logging.getLogger("localcloud.servicecatalog")
_UPDATABLE = ("AVAILABLE", "TAINTED")
_EXECUTION_STATUS = {
    "CREATED": "EXECUTE_IN_PROGRESS",
    "IN_PROGRESS": "EXECUTE_IN_PROGRESS",
    "SUCCEEDED": "EXECUTE_SUCCESS",
    "FAILED": "EXECUTE_FAILED",
}


@dataclass
class Plan:
    id: str
    name: str
    provisioned_product: ProvisionedProduct
    product: Product
    artifact: ProvisioningArtifact
    path: LaunchPath
    given: dict[str, str]
    parameters: list[dict[str, Any]]
    tags: dict[str, str]
    notification_arns: list[str]
    new_launch: bool
    status: str = "CREATE_IN_PROGRESS"
    status_message: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)
    record: Record | None = None
    created_time: float = field(default_factory=time.time)
    updated_time: float = field(default_factory=time.time)

    def current_status(self) -> str:
        if self.record is None:
            return self.status
        return _EXECUTION_STATUS[self.record.status]

    def summary(self) -> dict[str, Any]:
        return {
            "PlanName": self.name,
            "PlanId": self.id,
            "ProvisionProductId": self.provisioned_product.id,
            "ProvisionProductName": self.provisioned_product.name,
            "PlanType": "CLOUDFORMATION",
            "ProvisioningArtifactId": self.artifact.id,
        }

    def details(self) -> dict[str, Any]:
        details: dict[str, Any] = {
            **self.summary(),
            "CreatedTime": self.created_time,
            "UpdatedTime": self.updated_time,
            "PathId": self.path.id,
            "ProductId": self.product.id,
            "Status": self.current_status(),
            "NotificationArns": self.notification_arns,
            "ProvisioningParameters": self.parameters,
            "Tags": tag_list(self.tags),
        }
        if self.status_message:
            details["StatusMessage"] = self.status_message
        return details


class Planner:
    """The plans of one account and region, on top of its Provisioner."""

    def __init__(self, provisioner: Provisioner) -> None:
        self.provisioner = provisioner
        self.plans: dict[str, Plan] = {}
        self.tokens: dict[tuple[str, str], str] = {}

    def plan(self, plan_id: str) -> Plan:
        found = self.plans.get(plan_id)
        if found is None:
            raise ResourceNotFoundException(f"Plan {plan_id} not found.")
        return found

    def plans_of(self, pp_id: str | None) -> list[Plan]:
        found = sorted(self.plans.values(), key=lambda plan: plan.created_time)
        return [p for p in found if pp_id is None or p.provisioned_product.id == pp_id]

    # ---- create -------------------------------------------------------------------------------
    def create(self, params: dict[str, Any]) -> Plan:
        replayed = self.tokens.get(("CreateProvisionedProductPlan", params["IdempotencyToken"]))
        if replayed in self.plans:
            return self.plans[replayed]
        provisioner = self.provisioner
        product = provisioner.admin.product(params["ProductId"])
        artifact = provisioner.admin.artifact(product, params["ProvisioningArtifactId"], None)
        path = provisioner.launch_path(product, params.get("PathId"), None)
        existing = self._existing(params["ProvisionedProductName"])
        check_launchable(artifact, new_launch=existing is None)
        entries = params.get("ProvisioningParameters") or []
        given = (
            merge_update_parameters(existing, entries)
            if existing is not None
            else {entry["Key"]: entry.get("Value", "") for entry in entries}
        )
        provisioner.check_parameters(product, artifact, path, given)
        pp = existing or self._placeholder(params, product, artifact, path)
        plan = Plan(
            id=new_id("pp-plan"),
            name=params["PlanName"],
            provisioned_product=pp,
            product=product,
            artifact=artifact,
            path=path,
            given=given,
            parameters=entries,
            tags={t["Key"]: t["Value"] for t in params.get("Tags") or []} or dict(pp.tags),
            notification_arns=list(params.get("NotificationArns") or []),
            new_launch=existing is None,
        )
        self.plans[plan.id] = plan
        self.tokens[("CreateProvisionedProductPlan", params["IdempotencyToken"])] = plan.id
        run_later(lambda: self._work_out(plan))
        return plan

    def _existing(self, name: str) -> ProvisionedProduct | None:
        pp = next((p for p in self.provisioner.provisioned.values() if p.name == name), None)
        if pp is None:
            return None
        pending = [p for p in self.plans_of(pp.id) if p.record is None]
        if pending:
            raise InvalidStateException(
                f"Provisioned product {pp.id} already has plan {pending[0].id}; "
                "execute or delete it first."
            )
        if pp.status not in _UPDATABLE:
            raise InvalidStateException(
                f"Provisioned product {pp.id} is {pp.status}: a plan needs it AVAILABLE or TAINTED."
            )
        return pp

    def _placeholder(
        self,
        params: dict[str, Any],
        product: Product,
        artifact: ProvisioningArtifact,
        path: LaunchPath,
    ) -> ProvisionedProduct:
        provisioner = self.provisioner
        pp = provisioner.new_provisioned_product(
            params["ProvisionedProductName"],
            product,
            artifact,
            path,
            {"ProvisionToken": params["IdempotencyToken"], "Tags": params.get("Tags")},
        )
        pp.status = "PLAN_IN_PROGRESS"
        provisioner.provisioned[pp.id] = pp
        return pp

    def _work_out(self, plan: Plan) -> None:
        if self.provisioner.admin.retired:
            return
        try:
            self._work_out_changes(plan)
        except Exception as error:  # an emulator bug must fail the plan, not leave it running
            logger.exception("localcloud: plan %s crashed", plan.id)
            with self.provisioner.admin.lock:
                plan.status = "CREATE_FAILED"
                plan.status_message = f"InternalFailure: {type(error).__name__}: {error}"

    def _work_out_changes(self, plan: Plan) -> None:
        provisioner = self.provisioner
        template = provisioner.template_of(plan.artifact)
        values = resolved_parameters(template, plan.given)
        errors = preflight_errors(template, values)
        with provisioner.admin.lock:
            plan.updated_time = time.time()
            if errors:
                plan.status, plan.status_message = "CREATE_FAILED", "; ".join(errors)
                return
            plan.changes = resource_changes(
                self._current_state(plan.provisioned_product),
                self._state(template, values),
                provisioner.stacks.physical_ids(plan.provisioned_product.stack_id or ""),
            )
            plan.status = "CREATE_SUCCESS"

    def _state(self, template: dict[str, Any], values: dict[str, str]) -> StackState:
        admin = self.provisioner.admin
        return StackState(template, values, admin.account_id, admin.region)

    def _current_state(self, pp: ProvisionedProduct) -> StackState | None:
        if pp.status == "PLAN_IN_PROGRESS" or not pp.stack_id:
            return None
        product = self.provisioner.admin.products[pp.product_id]
        artifact = self.provisioner.admin.artifact(product, pp.artifact_id, None)
        return self._state(self.provisioner.template_of(artifact), pp.parameters)

    # ---- execute and delete -------------------------------------------------------------------
    def execute(self, params: dict[str, Any]) -> Record:
        token = ("ExecuteProvisionedProductPlan", params["IdempotencyToken"])
        if token in self.tokens:
            return self.provisioner.record(self.tokens[token])
        plan = self.plan(params["PlanId"])
        if plan.current_status() != "CREATE_SUCCESS":
            raise InvalidStateException(
                f"Plan {plan.id} is {plan.current_status()}: only a CREATE_SUCCESS plan runs."
            )
        record = self._start(plan)
        plan.record, plan.updated_time = record, time.time()
        self.tokens[token] = record.id
        return record

    def _start(self, plan: Plan) -> Record:
        pp, provisioner = plan.provisioned_product, self.provisioner
        check_launchable(plan.artifact, new_launch=plan.new_launch)
        if plan.new_launch:
            pp.parameters = resolved_parameters(provisioner.template_of(plan.artifact), plan.given)
            return provisioner.start_create(
                pp, plan.product, plan.artifact, plan.path, plan.notification_arns
            )
        if pp.status not in _UPDATABLE:
            raise InvalidStateException(
                f"Provisioned product {pp.id} is {pp.status} and cannot be updated."
            )
        return provisioner.start_update(
            pp,
            product=plan.product,
            artifact=plan.artifact,
            path=plan.path,
            given=plan.given,
            tags=plan.tags,
        )

    def delete(self, plan_id: str) -> None:
        plan = self.plan(plan_id)
        if plan.current_status() in ("CREATE_IN_PROGRESS", "EXECUTE_IN_PROGRESS"):
            raise InvalidParametersException(
                f"Plan {plan.id} is {plan.current_status()}; delete it once it has finished."
            )
        del self.plans[plan.id]
        pp = plan.provisioned_product
        # The provisioned product a plan created and nobody executed goes with its plan.
        if plan.record is None and pp.status == "PLAN_IN_PROGRESS":
            self.provisioner.provisioned.pop(pp.id, None)


def planner_of(provisioner: Provisioner) -> Planner:
    """The Planner of PROVISIONER's account and region (made on first use)."""
    if provisioner.planner is None:
        provisioner.planner = Planner(provisioner)
    planner: Planner = provisioner.planner
    return planner
