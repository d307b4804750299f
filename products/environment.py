"""What differs per launch inside one product template: resource names and settings.

One template serves every environment and every instance; the Environment launch parameter
selects the row of the EnvironmentSettings mapping a launch's settings come from, and the
Environment and InstanceName parameters together select the names of the resources it creates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from troposphere import Equals, FindInMap, If, Join, Not, Ref, Sub

from products.errors import InstanceNameError

ENVIRONMENT_PARAMETER = "Environment"
SETTINGS_MAP = "EnvironmentSettings"
# How a template spells the environment chosen at launch, inside Fn::Sub.
LAUNCHED_ENVIRONMENT = "${Environment}"

# Several launches of one tool in one account, region and environment are told apart by an
# instance name. The default instance has none, and its names are those of the single-instance
# catalog byte for byte, so existing launches update in place.
INSTANCE_PARAMETER = "InstanceName"
NAMED_INSTANCE_CONDITION = "NamedInstance"
# The Fn::Sub variable (in names and the dashboard body) that holds "" for the default instance
# and "-<InstanceName>" for a named one.
INSTANCE_VARIABLE = "Instance"
LAUNCHED_INSTANCE = "${Instance}"
INSTANCE_NAME_MAX_LENGTH = 20
INSTANCE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")

# AWS name-length limits (API references): IAM role names 64, Lambda function names 64, SQS queue
# names 80, alarm and dashboard names 255, DynamoDB tables 255, KMS aliases 256, SNS topics 256,
# log groups 512. The IAM role, named <prefix>-<product>-<instance>-<environment>-<region>, is
# the longest name under the tightest limit: it alone decides how long an instance name may be.
ROLE_NAME_LIMIT = 64


def setting(key: str) -> FindInMap:
    """The launched environment's value of one EnvironmentSettings mapping key."""
    return FindInMap(SETTINGS_MAP, Ref(ENVIRONMENT_PARAMETER), key)


def instance_segment() -> If:
    """The template expression of ${Instance}: "" or "-" followed by the InstanceName."""
    return If(NAMED_INSTANCE_CONDITION, Join("", ["-", Ref(INSTANCE_PARAMETER)]), "")


def named_instance_condition() -> Not:
    return Not(Equals(Ref(INSTANCE_PARAMETER), ""))


def instance_text(instance: str | None) -> str:
    """The concrete value of ${Instance} for one launch (None or "": the default instance)."""
    return f"-{instance}" if instance else ""


def sub(text: str) -> Sub:
    """Fn::Sub of TEXT, with the ${Instance} variable defined when TEXT uses it."""
    if LAUNCHED_INSTANCE in text:
        return Sub(text, **{INSTANCE_VARIABLE: instance_segment()})
    return Sub(text)


@dataclass(frozen=True)
class ResourceNames:
    """Every name a product's resources get: <prefix>-<product>[-<instance>]-<environment>[suffix].

    The prefix and product keep two tools apart in one account and region, the instance two
    launches of one tool, the environment two environments; the launch role's permissions are
    scoped to the prefix, which every name starts with.
    """

    prefix: str
    product: str

    def base(
        self, environment: str = LAUNCHED_ENVIRONMENT, instance: str = LAUNCHED_INSTANCE
    ) -> str:
        """The name with ENVIRONMENT and INSTANCE (the ${Instance} text: "" or "-name")."""
        return f"{self.prefix}-{self.product}{instance}-{environment}"

    def in_region(self, suffix: str = "") -> Sub:
        """A name unique per product, instance and environment within an account and region."""
        return sub(f"{self.base()}{suffix}")

    def in_account(self, suffix: str = "") -> Sub:
        """A name for global resources (IAM): also unique across regions of one account."""
        return sub(f"{self.base()}-${{AWS::Region}}{suffix}")

    def log_group(
        self, environment: str = LAUNCHED_ENVIRONMENT, instance: str = LAUNCHED_INSTANCE
    ) -> str:
        """The function's log group name (Lambda's default, named after the function)."""
        return f"/aws/lambda/{self.base(environment, instance)}"

    def instance_name_limit(self, environments: list[str], regions: list[str]) -> int:
        """How long an instance name may be so that the role name fits IAM's limit in every one
        of ENVIRONMENTS and REGIONS, the regions the catalog publishes to (the only ones a
        product can be launched in): at most INSTANCE_NAME_MAX_LENGTH; 0: none fits."""
        longest = self.base(max(environments, key=len), "-") + "-" + max(regions, key=len)
        return max(0, min(INSTANCE_NAME_MAX_LENGTH, ROLE_NAME_LIMIT - len(longest)))


def check_instance_name(instance: str, limit: int = INSTANCE_NAME_MAX_LENGTH) -> str:
    """INSTANCE if it is a valid instance name of at most LIMIT characters, else an error."""
    if not INSTANCE_NAME_PATTERN.match(instance) or len(instance) > INSTANCE_NAME_MAX_LENGTH:
        raise InstanceNameError(
            f"instance name {instance!r} is not valid: use 1 to {INSTANCE_NAME_MAX_LENGTH} "
            "lowercase letters, digits and hyphens, starting with a letter"
        )
    if len(instance) > limit:
        raise InstanceNameError(
            f"instance name {instance!r} is {len(instance)} characters; at most {limit} fit "
            f"this tool's names (IAM role names are limited to {ROLE_NAME_LIMIT} characters)"
        )
    return instance
