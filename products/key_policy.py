"""Key-policy statements every key of ours carries: the product keys and the pipeline's key."""

from __future__ import annotations

from awacs import kms as kms_actions
from awacs.aws import Allow, Condition, ConditionElement, Principal, Statement
from troposphere import Sub

# The tag every product key carries, its value the catalog's resource_prefix. KMS keys have no
# name to put in an ARN, so the launch role manages only keys with this tag (aws:ResourceTag,
# products/launch_role.py) and creates keys only with it (aws:RequestTag).
TOOL_KEY_TAG = "oncall-catalog:resource-prefix"

# The account's administrators, spelled out instead of "kms:*" (no wildcard actions anywhere);
# PutKeyPolicy is in the list, so the account can always repair the policy itself.
_KEY_ADMIN_ACTIONS = [
    "CancelKeyDeletion",
    "CreateAlias",
    "CreateGrant",
    "Decrypt",
    "DeleteAlias",
    "DescribeKey",
    "DisableKey",
    "DisableKeyRotation",
    "EnableKey",
    "EnableKeyRotation",
    "Encrypt",
    "GenerateDataKey",
    "GetKeyPolicy",
    "GetKeyRotationStatus",
    "ListGrants",
    "ListResourceTags",
    "PutKeyPolicy",
    "ReEncryptFrom",
    "ReEncryptTo",
    "RetireGrant",
    "RevokeGrant",
    "ScheduleKeyDeletion",
    "TagResource",
    "UntagResource",
    "UpdateAlias",
    "UpdateKeyDescription",
]

# What CloudWatch Logs needs to encrypt a log group with a customer managed key.
_LOGS_KEY_ACTIONS = [
    kms_actions.Encrypt,
    kms_actions.Decrypt,
    kms_actions.ReEncryptFrom,
    kms_actions.ReEncryptTo,
    kms_actions.GenerateDataKey,
    kms_actions.DescribeKey,
]


def account_administers_key() -> Statement:
    """The account (through IAM) administers the key, so it can always repair the policy."""
    return Statement(
        Sid="AccountAdministersKeyAndDelegatesUseToIam",
        Effect=Allow,
        Principal=Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
        Action=[kms_actions.Action(name) for name in _KEY_ADMIN_ACTIONS],
        Resource=["*"],  # In a key policy "*" means this key.
    )


def logs_use_key(sid: str, log_groups: ConditionElement) -> Statement:
    """CloudWatch Logs in this region may use the key, for the log groups the condition names."""
    return Statement(
        Sid=sid,
        Effect=Allow,
        Principal=Principal("Service", Sub("logs.${AWS::Region}.amazonaws.com")),
        Action=_LOGS_KEY_ACTIONS,
        Resource=["*"],
        Condition=Condition(log_groups),
    )
