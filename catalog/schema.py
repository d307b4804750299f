"""JSON schema of the `portfolio:` section of catalog.yaml (embedded by products.config).

Limits come from the Service Catalog API: DisplayName 1-100, Description <= 2000,
ProviderName 1-50, TagOption key 1-128 / value 1-256, principal ARN 1-1000.
Rules jsonschema cannot express (IAM_PATTERN shape, retention ordering) live in portfolio.desired.
"""

from typing import Any

_REGION = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
_ACCOUNT = r"^[0-9]{12}$"
_OU = r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$"
_ORGANIZATION = r"^o-[a-z0-9]{10,32}$"
_IAM_ROLE_NAME = r"^[\w+=,.@-]{1,64}$"
_ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$"

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
