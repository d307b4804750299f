"""Builders shared by the localcloud tests (plain functions over real clients)."""

import json
import urllib.error
import urllib.request
from typing import Any

BUCKET = "catalog-artifacts-us-east-1"

SIMPLE_TEMPLATE: dict[str, Any] = {
    "Parameters": {
        "Environment": {
            "Type": "String",
            "AllowedValues": ["dev", "prod"],
            "Default": "dev",
            "Description": "Target environment",
        },
        "QueueSuffix": {"Type": "String", "Default": "main", "MaxLength": 10},
    },
    "Resources": {
        "Queue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"QueueName": {"Fn::Sub": "q-${Environment}-${QueueSuffix}"}},
        }
    },
    "Outputs": {"QueueUrl": {"Value": {"Ref": "Queue"}, "Description": "the queue"}},
}


def put_template(s3: Any, endpoint: str, key: str, template: dict[str, Any] | str) -> str:
    """Upload a template to local S3 and return its URL (path style on the local endpoint)."""
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    if BUCKET not in existing:
        s3.create_bucket(Bucket=BUCKET)
    body = template if isinstance(template, str) else json.dumps(template)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode())
    return f"{endpoint}/{BUCKET}/{key}"


def artifact_parameters(url: str, name: str = "1.0.0") -> dict[str, Any]:
    return {
        "Name": name,
        "Description": f"version {name}",
        "Info": {"LoadTemplateFromURL": url},
        "Type": "CLOUD_FORMATION_TEMPLATE",
    }


def create_portfolio(sc: Any, name: str = "On-call tools") -> str:
    answer = sc.create_portfolio(
        DisplayName=name, ProviderName="Platform", IdempotencyToken=f"tok-{name}".replace(" ", "-")
    )
    return str(answer["PortfolioDetail"]["Id"])


def create_product(sc: Any, url: str, name: str = "log-processor") -> tuple[str, str]:
    answer = sc.create_product(
        Name=name,
        Owner="platform",
        Description="processes logs",
        Distributor="platform team",
        SupportEmail="oncall@example.com",
        SupportUrl="https://example.com/support",
        ProductType="CLOUD_FORMATION_TEMPLATE",
        ProvisioningArtifactParameters=artifact_parameters(url),
        IdempotencyToken=f"create-{name}",
        Tags=[{"Key": "team", "Value": "platform"}],
    )
    return (
        str(answer["ProductViewDetail"]["ProductViewSummary"]["ProductId"]),
        str(answer["ProvisioningArtifactDetail"]["Id"]),
    )


def raw_call(
    endpoint: str, target: str, body: Any, content_type: str = "application/x-amz-json-1.1"
) -> tuple[int, dict[str, Any]]:
    """A request as a raw client (no botocore validation) would send it."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        endpoint,
        data=data,
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Amz-Target": target,
            "Authorization": "AWS4-HMAC-SHA256 "
            "Credential=testing/20260101/us-east-1/servicecatalog/aws4_request, "
            "SignedHeaders=host, Signature=x",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
