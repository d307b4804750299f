"""JSON-protocol plumbing of the end-user (launch) operations."""

from typing import Any

from .entities import tag_list
from .plans import planner_of
from .provisioning import ProvisionedProduct, path_id_of
from .responses import CatalogRequest, Handler, paginate


def provision_product(request: CatalogRequest) -> dict[str, Any]:
    return {"RecordDetail": request.provisioner.provision(request.params).detail()}


def update_provisioned_product(request: CatalogRequest) -> dict[str, Any]:
    return {"RecordDetail": request.provisioner.update(request.params).detail()}


def terminate_provisioned_product(request: CatalogRequest) -> dict[str, Any]:
    return {"RecordDetail": request.provisioner.terminate(request.params).detail()}


def describe_record(request: CatalogRequest) -> dict[str, Any]:
    record = request.provisioner.record(request.params["Id"])
    outputs, token = paginate(record.outputs, request)
    return {"RecordDetail": record.detail(), "RecordOutputs": outputs, **token}


def describe_provisioned_product(request: CatalogRequest) -> dict[str, Any]:
    pp = request.provisioner.provisioned_product(request.get("Id"), request.get("Name"))
    return {"ProvisionedProductDetail": pp.detail(), "CloudWatchDashboards": []}


def _attributes(request: CatalogRequest, pp: ProvisionedProduct) -> dict[str, Any]:
    product = request.admin.products.get(pp.product_id)
    artifact = product.artifacts.get(pp.artifact_id) if product else None
    attributes = {key: value for key, value in pp.detail().items() if key not in ("LaunchRoleArn",)}
    attributes["Tags"] = tag_list(pp.tags)
    attributes["UserArn"] = f"arn:aws:iam::{request.admin.account_id}:root"
    attributes["UserArnSession"] = f"arn:aws:iam::{request.admin.account_id}:root"
    if pp.stack_id:
        attributes["PhysicalId"] = pp.stack_id
    if product:
        attributes["ProductName"] = product.name
    if artifact:
        attributes["ProvisioningArtifactName"] = artifact.name
    return attributes


def search_provisioned_products(request: CatalogRequest) -> dict[str, Any]:
    query = (request.get("Filters") or {}).get("SearchQuery", [])
    found = sorted(request.provisioner.search(query), key=lambda pp: pp.created_time)
    if request.get("SortOrder") == "DESCENDING":
        found.reverse()
    page, token = paginate(found, request)
    return {
        "ProvisionedProducts": [_attributes(request, pp) for pp in page],
        "TotalResultsCount": len(found),
        **token,
    }


def scan_provisioned_products(request: CatalogRequest) -> dict[str, Any]:
    found = sorted(request.provisioner.provisioned.values(), key=lambda pp: pp.created_time)
    page, token = paginate(found, request)
    return {"ProvisionedProducts": [pp.detail() for pp in page], **token}


def list_record_history(request: CatalogRequest) -> dict[str, Any]:
    records = sorted(
        request.provisioner.records.values(), key=lambda r: r.created_time, reverse=True
    )
    search = request.get("SearchFilter") or {}
    if search.get("Key") == "provisionedproduct" and search.get("Value"):
        records = [r for r in records if r.provisioned_product.id == search["Value"]]
    page, token = paginate(records, request)
    return {"RecordDetails": [r.detail() for r in page], **token}


def get_provisioned_product_outputs(request: CatalogRequest) -> dict[str, Any]:
    pp = request.provisioner.provisioned_product(
        request.get("ProvisionedProductId"), request.get("ProvisionedProductName")
    )
    record = request.provisioner.records.get(pp.last_successful_record_id or "")
    wanted = request.get("OutputKeys")
    outputs = [
        o for o in (record.outputs if record else []) if not wanted or o["OutputKey"] in wanted
    ]
    page, token = paginate(outputs, request)
    return {"Outputs": page, **token}


def list_launch_paths(request: CatalogRequest) -> dict[str, Any]:
    product = request.admin.product(request.params["ProductId"])
    summaries = []
    for portfolio in request.provisioner.launch_paths(product):
        constraints = request.admin.constraints_for(portfolio.id, product.id)
        summaries.append(
            {
                "Id": path_id_of(portfolio),
                "ConstraintSummaries": [c.summary() for c in constraints],
                "Tags": tag_list(portfolio.tags),
                "Name": portfolio.display_name,
            }
        )
    page, token = paginate(summaries, request)
    return {"LaunchPathSummaries": page, **token}


def _usage_instructions(constraints: list[Any]) -> list[dict[str, str]]:
    instructions = []
    for constraint in constraints:
        if constraint.type == "LAUNCH":
            instructions.append({"Type": "launchAsRole", "Value": constraint.parameters})
        elif constraint.type == "TEMPLATE":
            instructions.append({"Type": "rules", "Value": constraint.parameters})
    return instructions


def _tag_option_groups(request: CatalogRequest, holders: list[Any]) -> list[dict[str, Any]]:
    grouped: dict[str, list[str]] = {}
    for holder in holders:
        for option in request.admin.tag_options_of(holder):
            if option.active:
                grouped.setdefault(option.key, [])
                if option.value not in grouped[option.key]:
                    grouped[option.key].append(option.value)
    return [{"Key": key, "Values": values} for key, values in grouped.items()]


def describe_provisioning_parameters(request: CatalogRequest) -> dict[str, Any]:
    admin, provisioner = request.admin, request.provisioner
    product = admin.product(request.get("ProductId"), request.get("ProductName"))
    artifact = admin.artifact(
        product, request.get("ProvisioningArtifactId"), request.get("ProvisioningArtifactName")
    )
    path = provisioner.launch_path(product, request.get("PathId"), request.get("PathName"))
    constraints = provisioner.path_constraints(product, path)
    output_keys = provisioner.output_keys(artifact)
    return {
        "ProvisioningArtifactParameters": provisioner.parameter_summaries(artifact),
        "ConstraintSummaries": [c.summary() for c in constraints],
        "UsageInstructions": _usage_instructions(constraints),
        "TagOptions": _tag_option_groups(request, [path.portfolio, product]),
        "ProvisioningArtifactPreferences": {},
        "ProvisioningArtifactOutputs": output_keys,
        "ProvisioningArtifactOutputKeys": output_keys,
    }


def create_provisioned_product_plan(request: CatalogRequest) -> dict[str, Any]:
    plan = planner_of(request.provisioner).create(request.params)
    summary = plan.summary()
    return {
        "PlanName": summary["PlanName"],
        "PlanId": summary["PlanId"],
        "ProvisionProductId": summary["ProvisionProductId"],
        "ProvisionedProductName": summary["ProvisionProductName"],
        "ProvisioningArtifactId": summary["ProvisioningArtifactId"],
    }


def describe_provisioned_product_plan(request: CatalogRequest) -> dict[str, Any]:
    plan = planner_of(request.provisioner).plan(request.params["PlanId"])
    changes, token = paginate(plan.changes, request)
    return {"ProvisionedProductPlanDetails": plan.details(), "ResourceChanges": changes, **token}


def execute_provisioned_product_plan(request: CatalogRequest) -> dict[str, Any]:
    return {"RecordDetail": planner_of(request.provisioner).execute(request.params).detail()}


def delete_provisioned_product_plan(request: CatalogRequest) -> dict[str, Any]:
    planner_of(request.provisioner).delete(request.params["PlanId"])
    return {}


def list_provisioned_product_plans(request: CatalogRequest) -> dict[str, Any]:
    plans = planner_of(request.provisioner).plans_of(request.get("ProvisionProductId"))
    page, token = paginate([plan.summary() for plan in plans], request)
    return {"ProvisionedProductPlans": page, **token}


LAUNCH_HANDLERS: dict[str, Handler] = {
    "CreateProvisionedProductPlan": create_provisioned_product_plan,
    "DescribeProvisionedProductPlan": describe_provisioned_product_plan,
    "ExecuteProvisionedProductPlan": execute_provisioned_product_plan,
    "DeleteProvisionedProductPlan": delete_provisioned_product_plan,
    "ListProvisionedProductPlans": list_provisioned_product_plans,
    "ProvisionProduct": provision_product,
    "UpdateProvisionedProduct": update_provisioned_product,
    "TerminateProvisionedProduct": terminate_provisioned_product,
    "DescribeRecord": describe_record,
    "DescribeProvisionedProduct": describe_provisioned_product,
    "SearchProvisionedProducts": search_provisioned_products,
    "ScanProvisionedProducts": scan_provisioned_products,
    "ListRecordHistory": list_record_history,
    "GetProvisionedProductOutputs": get_provisioned_product_outputs,
    "ListLaunchPaths": list_launch_paths,
    "DescribeProvisioningParameters": describe_provisioning_parameters,
}
