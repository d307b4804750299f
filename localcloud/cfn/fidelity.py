"""Properties moto's own CloudFormation models accept but drop.

moto creates these resource types but ignores some of their properties (a Lambda function's
Architectures, a table's TimeToLiveSpecification, a bucket's VersioningConfiguration, ...), so the
launched resource would describe differently from AWS. Each fix prepares the properties moto
misreads before creation and applies the dropped ones afterwards through the service backend.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Props = dict[str, Any]
_INSTALLED_MARK = "_localcloud_fidelity"


@dataclass(frozen=True)
class PropertyFix:
    prepare: Callable[[Props], None]
    finish: Callable[[Any, Props, str, str], None]


def _no_preparation(props: Props) -> None:
    """Nothing for moto to be told differently before creation."""


def _as_ints(props: Props, names: tuple[str, ...]) -> None:
    # Fn::FindInMap and parameters hand moto strings where the API has integers.
    for name in names:
        if props.get(name) not in (None, ""):
            props[name] = int(props[name])


# ---- Lambda -------------------------------------------------------------------------------
def _prepare_function(props: Props) -> None:
    _as_ints(props, ("MemorySize", "Timeout", "ReservedConcurrentExecutions"))
    # Lambda keeps environment variables as strings; a Number parameter arrives as an int.
    variables = (props.get("Environment") or {}).get("Variables")
    if variables:
        props["Environment"]["Variables"] = {key: str(value) for key, value in variables.items()}


def _finish_function(function: Any, props: Props, account_id: str, region: str) -> None:
    function.architectures = list(props.get("Architectures") or ["x86_64"])
    if props.get("TracingConfig"):
        function.tracing_config = dict(props["TracingConfig"])
    if props.get("KmsKeyArn"):
        function.kms_key_arn = props["KmsKeyArn"]
    function.localcloud_dead_letter_config = props.get("DeadLetterConfig")
    logging_config = dict(props.get("LoggingConfig") or {})
    logging_config.setdefault("LogFormat", "Text")
    logging_config.setdefault("LogGroup", f"/aws/lambda/{function.function_name}")
    function.localcloud_logging_config = logging_config
    if props.get("LoggingConfig", {}).get("LogGroup"):
        function.logs_group_name = logging_config["LogGroup"]


def _with_extra_configuration(
    original: Callable[..., dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    def get_configuration(function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        config = original(function, *args, **kwargs)
        dead_letter = getattr(function, "localcloud_dead_letter_config", None)
        if dead_letter:
            config["DeadLetterConfig"] = dead_letter
        logging_config = getattr(function, "localcloud_logging_config", None)
        if logging_config:
            config["LoggingConfig"] = logging_config
        return config

    return get_configuration


# ---- CloudWatch Logs / KMS ----------------------------------------------------------------
def _prepare_log_group(props: Props) -> None:
    _as_ints(props, ("RetentionInDays",))
    if props.get("KmsKeyId"):
        props["kmsKeyId"] = props["KmsKeyId"]  # moto's LogGroup reads the API's spelling


def _prepare_key(props: Props) -> None:
    if isinstance(props.get("KeyPolicy"), dict):
        props["KeyPolicy"] = json.dumps(props["KeyPolicy"])
    # moto's key tagger reads the KMS API's spelling (TagKey/TagValue), not CloudFormation's.
    props["Tags"] = [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in props.get("Tags") or []]


def _prepare_role(props: Props) -> None:
    # moto stores an inline policy's document as given and GetRolePolicy answers its repr.
    for policy in props.get("Policies") or []:
        if isinstance(policy, dict) and isinstance(policy.get("PolicyDocument"), dict):
            policy["PolicyDocument"] = json.dumps(policy["PolicyDocument"])


def _finish_nothing(resource: Any, props: Props, account_id: str, region: str) -> None:
    """moto applied everything itself."""


# ---- DynamoDB -----------------------------------------------------------------------------
def _prepare_table(props: Props) -> None:
    sse = props.get("SSESpecification")
    if sse:
        # CloudFormation says SSEEnabled where the API (and moto) say Enabled.
        converted = {"Enabled": bool(sse.get("SSEEnabled")), "SSEType": sse.get("SSEType", "KMS")}
        if sse.get("KMSMasterKeyId"):
            converted["KMSMasterKeyId"] = sse["KMSMasterKeyId"]
        props["SSESpecification"] = converted


def _finish_table(table: Any, props: Props, account_id: str, region: str) -> None:
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[account_id][region]
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        backend.update_time_to_live(
            table.name, {"AttributeName": ttl["AttributeName"], "Enabled": bool(ttl.get("Enabled"))}
        )
    pitr = props.get("PointInTimeRecoverySpecification")
    if pitr:
        backend.update_continuous_backups(
            table.name, {"PointInTimeRecoveryEnabled": bool(pitr.get("PointInTimeRecoveryEnabled"))}
        )


# ---- S3 -----------------------------------------------------------------------------------
def _lifecycle_rule(rule: Props) -> Props:
    converted: Props = {
        "ID": rule.get("Id", ""),
        "Status": rule.get("Status", "Enabled"),
        "Filter": {"Prefix": rule.get("Prefix", "")},
    }
    if rule.get("ExpirationInDays") is not None:
        converted["Expiration"] = {"Days": int(rule["ExpirationInDays"])}
    if rule.get("NoncurrentVersionExpiration"):
        days = rule["NoncurrentVersionExpiration"].get("NoncurrentDays")
        converted["NoncurrentVersionExpiration"] = {"NoncurrentDays": int(days)}
    if rule.get("AbortIncompleteMultipartUpload"):
        days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
        converted["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": int(days)}
    return converted


def _set_bucket_logging(backend: Any, bucket: Any, logging_config: Props) -> None:
    target = logging_config["DestinationBucketName"]
    if target not in backend.buckets:
        raise ValueError(f"LoggingConfiguration.DestinationBucketName {target!r} does not exist")
    # moto insists on the pre-2023 log-delivery ACL (or an existing policy) on the target; AWS
    # accepts the configuration and the template's own bucket policy may come later.
    bucket.logging = {
        "TargetBucket": target,
        "TargetPrefix": logging_config.get("LogFilePrefix", ""),
    }


def _finish_bucket(bucket: Any, props: Props, account_id: str, region: str) -> None:
    from moto.s3.models import s3_backends

    backend = s3_backends[account_id]["aws"]
    name = bucket.name
    if props.get("VersioningConfiguration"):
        backend.put_bucket_versioning(name, props["VersioningConfiguration"]["Status"])
    if props.get("PublicAccessBlockConfiguration"):
        backend.put_public_access_block(name, props["PublicAccessBlockConfiguration"])
    rules = (props.get("OwnershipControls") or {}).get("Rules") or []
    if rules:
        backend.put_bucket_ownership_controls(name, rules[0]["ObjectOwnership"])
    lifecycle = (props.get("LifecycleConfiguration") or {}).get("Rules") or []
    if lifecycle:
        backend.put_bucket_lifecycle_configuration(name, [_lifecycle_rule(r) for r in lifecycle])
    logging_config = props.get("LoggingConfiguration")
    if logging_config and logging_config.get("DestinationBucketName"):
        _set_bucket_logging(backend, bucket, logging_config)


FIXES: dict[str, PropertyFix] = {
    "AWS::Lambda::Function": PropertyFix(_prepare_function, _finish_function),
    "AWS::Logs::LogGroup": PropertyFix(_prepare_log_group, _finish_nothing),
    "AWS::KMS::Key": PropertyFix(_prepare_key, _finish_nothing),
    "AWS::IAM::Role": PropertyFix(_prepare_role, _finish_nothing),
    "AWS::DynamoDB::Table": PropertyFix(_prepare_table, _finish_table),
    "AWS::S3::Bucket": PropertyFix(_no_preparation, _finish_bucket),
}


def _wrap_create(model: Any, fix: PropertyFix) -> None:
    original = model.create_from_cloudformation_json

    def create(
        cls: Any,
        /,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        props = cloudformation_json.setdefault("Properties", {})
        fix.prepare(props)
        resource = original(resource_name, cloudformation_json, account_id, region_name, **kwargs)
        fix.finish(resource, props, account_id, region_name)
        return resource

    setattr(model, "create_from_cloudformation_json", classmethod(create))  # noqa: B010


def _wrap_update(model: Any, fix: PropertyFix) -> None:
    original = model.update_from_cloudformation_json
    if getattr(original, "__isabstractmethod__", False):
        return

    def update(
        cls: Any,
        *,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        props = cloudformation_json.setdefault("Properties", {})
        fix.prepare(props)
        resource = original(
            original_resource=original_resource,
            new_resource_name=new_resource_name,
            cloudformation_json=cloudformation_json,
            account_id=account_id,
            region_name=region_name,
        )
        fix.finish(resource, props, account_id, region_name)
        return resource

    setattr(model, "update_from_cloudformation_json", classmethod(update))  # noqa: B010


def install_property_fixes(model_map: dict[str, Any]) -> None:
    from moto.awslambda.models import LambdaFunction

    if getattr(LambdaFunction, _INSTALLED_MARK, False):
        return
    for resource_type, fix in FIXES.items():
        _wrap_create(model_map[resource_type], fix)
        _wrap_update(model_map[resource_type], fix)
    patched = _with_extra_configuration(LambdaFunction.get_configuration)
    setattr(LambdaFunction, "get_configuration", patched)  # noqa: B010
    setattr(LambdaFunction, _INSTALLED_MARK, True)
