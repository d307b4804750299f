"""What differs per environment inside one product template: resource names and settings.

One template serves every environment; the Environment launch parameter selects the names of the
resources a launch creates and the row of the EnvironmentSettings mapping its settings come from.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import FindInMap, Ref, Sub

ENVIRONMENT_PARAMETER = "Environment"
SETTINGS_MAP = "EnvironmentSettings"
# How a template spells the environment chosen at launch, inside Fn::Sub.
LAUNCHED_ENVIRONMENT = "${Environment}"


def setting(key: str) -> FindInMap:
    """The launched environment's value of one EnvironmentSettings mapping key."""
    return FindInMap(SETTINGS_MAP, Ref(ENVIRONMENT_PARAMETER), key)


@dataclass(frozen=True)
class ResourceNames:
    """Every name a product's resources get: <prefix>-<product>-<environment>[suffix].

    The prefix and product keep two tools apart in one account and region, the environment two
    launches of one tool; the launch role's permissions are scoped to the prefix.
    """

    prefix: str
    product: str

    def base(self, environment: str = LAUNCHED_ENVIRONMENT) -> str:
        return f"{self.prefix}-{self.product}-{environment}"

    def in_region(self, suffix: str = "") -> Sub:
        """A name unique per product and environment within an account and region."""
        return Sub(f"{self.base()}{suffix}")

    def in_account(self, suffix: str = "") -> Sub:
        """A name for global resources (IAM): also unique across regions of one account."""
        return Sub(f"{self.base()}-${{AWS::Region}}{suffix}")

    def log_group(self, environment: str = LAUNCHED_ENVIRONMENT) -> str:
        """The function's log group name (Lambda's default, named after the function)."""
        return f"/aws/lambda/{self.base(environment)}"
