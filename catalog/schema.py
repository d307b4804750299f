"""JSON schema of catalog.yaml: catalog, portfolio, environments, products and pipeline sections.

Limits come from the AWS APIs. Portfolio: Service Catalog's DisplayName 1-100, Description
<= 2000, ProviderName 1-50, TagOption key 1-128 / value 1-256, principal ARN 1-1000. Rules
jsonschema cannot express (IAM_PATTERN shape, retention ordering) live in portfolio.desired.
"""

from typing import Any

_REGION = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
_ACCOUNT = r"^[0-9]{12}$"
_OU = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
_ORGANIZATION = r"^o-[a-z0-9]{10,32}$"
_IAM_ROLE_NAME = r"^[\w+=,.@-]{1,64}$"
_ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$"
# A customer managed policy (path, then a name of at most 128 characters): what the products'
# PermissionsBoundaryArn parameter accepts.
_POLICY_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:policy/([\w+=,.@-]+/)*[\w+=,.@-]{1,128}$"

_LAUNCH_ROLE: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    # A LAUNCH constraint takes LocalRoleName or RoleArn, never both.
    "oneOf": [{"required": ["local_role_name"]}, {"required": ["role_arn"]}],
    "properties": {
        "local_role_name": {"type": "string", "pattern": _IAM_ROLE_NAME},
        "role_arn": {"type": "string", "pattern": _ROLE_ARN},
    },
}

_PRINCIPAL: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["type", "arn"],
    "properties": {
        "type": {"type": "string", "enum": ["IAM", "IAM_PATTERN"]},
        "arn": {"type": "string", "minLength": 1, "maxLength": 1000, "pattern": r"^arn:aws"},
    },
}

_TAG_OPTIONS: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"minLength": 1, "maxLength": 128, "pattern": r"^[\w\s.:/=+@-]+$"},
    "additionalProperties": {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "string", "minLength": 1, "maxLength": 256},
    },
}

_RETENTION: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "keep_active": {"type": "integer", "minimum": 1, "maximum": 100},
        "deactivate_after": {"type": "integer", "minimum": 1, "maximum": 1000},
    },
}

_SHARES: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "accounts": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": _ACCOUNT},
        },
        "organizational_units": {
            "type": "array",
            "uniqueItems": True,
            "items": {"type": "string", "pattern": _OU},
        },
        "organization_id": {"type": ["string", "null"], "pattern": _ORGANIZATION},
        "share_principals": {"type": "boolean"},
        "share_tag_options": {"type": "boolean"},
    },
}

_TEMPLATE_CONSTRAINT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description", "rules"],
    "properties": {
        "description": {"type": "string", "minLength": 1, "maxLength": 2000},
        "rules": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": r"^[A-Za-z0-9]{1,255}$"},
            "additionalProperties": {
                "type": "object",
                "required": ["Assertions"],
                "properties": {
                    "RuleCondition": {"type": "object"},
                    "Assertions": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "object", "required": ["Assert"]},
                    },
                },
            },
        },
    },
}

PORTFOLIO_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["display_name", "provider_name", "regions", "launch_role"],
    "properties": {
        "display_name": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "maxLength": 2000},
        "provider_name": {"type": "string", "minLength": 1, "maxLength": 50},
        "regions": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "string", "pattern": _REGION},
        },
        "launch_role": _LAUNCH_ROLE,
        "principals": {"type": "array", "uniqueItems": True, "items": _PRINCIPAL},
        "tag_options": _TAG_OPTIONS,
        "tags": {
            "type": "object",
            "additionalProperties": {"type": "string", "maxLength": 256},
            "propertyNames": {"minLength": 1, "maxLength": 128},
        },
        "retention": _RETENTION,
        "shares": _SHARES,
        "template_constraints": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": _TEMPLATE_CONSTRAINT},
        },
    },
}


_NAME = r"^[a-z][a-z0-9-]{1,40}$"

_ALARMS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "period_seconds",
        "evaluation_periods",
        "errors_threshold",
        "throttles_threshold",
        "duration_ratio",
        "dlq_depth_threshold",
    ],
    "properties": {
        # CloudWatch accepts 10, 30 or any multiple of 60 seconds for standard metrics.
        "period_seconds": {"type": "integer", "enum": [60, 120, 180, 300, 600, 900, 3600]},
        "evaluation_periods": {"type": "integer", "minimum": 1, "maximum": 10},
        "errors_threshold": {"type": "integer", "minimum": 1},
        "throttles_threshold": {"type": "integer", "minimum": 1},
        "duration_ratio": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "dlq_depth_threshold": {"type": "integer", "minimum": 1},
    },
}

_SETTINGS_PROPERTIES: dict[str, Any] = {
    # Lambda limits: 128-10240 MB memory, 1-900 s timeout.
    "memory_mb": {"type": "integer", "minimum": 128, "maximum": 10240},
    "timeout_seconds": {"type": "integer", "minimum": 1, "maximum": 900},
    # The values CloudWatch Logs accepts for RetentionInDays.
    "log_retention_days": {
        "type": "integer",
        "enum": [
            1,
            3,
            5,
            7,
            14,
            30,
            60,
            90,
            120,
            150,
            180,
            365,
            400,
            545,
            731,
            1096,
            1827,
            2192,
            2557,
            2922,
            3288,
            3653,
        ],
    },
    "reserved_concurrency": {"type": "integer", "minimum": 1, "maximum": 1000},
    "tracing": {"type": "string", "enum": ["Active", "PassThrough"]},
    "alarms": _ALARMS_SCHEMA,
}

# Where an environment is deployed: not settings a product override may change.
_TARGET_PROPERTIES: dict[str, Any] = {
    # Absent: the pipeline's own account.
    "account": {"type": "string", "pattern": _ACCOUNT},
    # Absent: every region of the portfolio (catalog.config checks these are among them).
    "regions": {
        "type": "array",
        "minItems": 1,
        "uniqueItems": True,
        "items": {"type": "string", "pattern": _REGION},
    },
}

_ENVIRONMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": list(_SETTINGS_PROPERTIES),
    "properties": {**_SETTINGS_PROPERTIES, **_TARGET_PROPERTIES},
}

DEFAULT_DEPLOY_ROLE_NAME = "OncallCatalogDeployRole"

# Where docs/runbooks/ is published: every alarm's description ends with its runbook's link under
# it. The default is a placeholder; set catalog.runbook_base_url to your repository's copy.
DEFAULT_RUNBOOK_BASE_URL = "https://github.com/example-org/oncall-catalog/blob/main/docs/runbooks"
# AlarmDescription holds at most 1024 characters (CloudWatch API reference, MetricAlarm): the
# longest description the products write plus this many characters of base URL stay within it
# (tests/docs/test_runbooks.py). No "$", "{" or "}": the description is an Fn::Sub string.
RUNBOOK_BASE_URL_MAX_LENGTH = 300
_RUNBOOK_BASE_URL = r"^https://[^\s${}]+$"

# The release pipeline (dist/infra/pipeline.json, dist/infra/spoke.json). The connection,
# repository and branch are parameters of the pipeline stack, not config: they belong to the
# account the pipeline is deployed in.
PIPELINE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        # The role a deploy stage assumes in an environment's account (the spoke stack's).
        "deploy_role_name": {"type": "string", "pattern": _IAM_ROLE_NAME},
    },
}

_OVERRIDE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": _SETTINGS_PROPERTIES,
}

_PARAMETER_VALUES: dict[str, Any] = {
    "type": "object",
    "propertyNames": {"pattern": r"^[A-Za-z0-9]{1,255}$"},
    "additionalProperties": {"type": ["string", "number", "boolean"]},
}

_PRODUCT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["description", "owner"],
    "properties": {
        # Service Catalog limits: Description 8191, Owner/Distributor 8191, SupportDescription 8191.
        "description": {"type": "string", "minLength": 1, "maxLength": 8191},
        "owner": {"type": "string", "minLength": 1, "maxLength": 8191},
        "distributor": {"type": "string", "maxLength": 8191},
        "support_email": {"type": "string", "maxLength": 254, "pattern": r"^[^@\s]+@[^@\s]+$"},
        "support_url": {"type": "string", "maxLength": 2083, "pattern": r"^https?://"},
        "overrides": {"type": "object", "additionalProperties": _OVERRIDE_SCHEMA},
        "launch": {"type": "object", "additionalProperties": _PARAMETER_VALUES},
        # Build-time settings: each tool declares and checks their shape when it is built
        # (products/build_settings.py), so adding a tool never edits this schema.
        "build": {"type": "object"},
    },
}


def catalog_schema() -> dict[str, Any]:
    """The JSON schema of catalog.yaml."""
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["catalog", "portfolio", "environments", "products"],
        "properties": {
            "catalog": {
                "type": "object",
                "additionalProperties": False,
                "required": ["artifact_bucket_prefix", "resource_prefix"],
                "properties": {
                    # Leaves room for "-<region>" inside S3's 63-character bucket name limit.
                    "artifact_bucket_prefix": {
                        "type": "string",
                        "pattern": r"^[a-z0-9][a-z0-9-]{2,46}$",
                    },
                    "resource_prefix": {"type": "string", "pattern": r"^[a-z][a-z0-9-]{1,15}$"},
                    # Set: every role a product creates carries this boundary, and the launch
                    # role may create roles only with it (products/launch_role.py).
                    "permissions_boundary_arn": {"type": "string", "pattern": _POLICY_ARN},
                    "runbook_base_url": {
                        "type": "string",
                        "maxLength": RUNBOOK_BASE_URL_MAX_LENGTH,
                        "pattern": _RUNBOOK_BASE_URL,
                    },
                },
            },
            "portfolio": PORTFOLIO_SCHEMA,
            "environments": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": r"^[a-z][a-z0-9]{1,15}$"},
                "additionalProperties": _ENVIRONMENT_SCHEMA,
            },
            "products": {
                "type": "object",
                "propertyNames": {"pattern": _NAME},
                "additionalProperties": _PRODUCT_SCHEMA,
            },
            "pipeline": PIPELINE_SCHEMA,
        },
    }
