"""health-checker: scheduled HTTP/TCP checks that alert on state changes and publish metrics."""

from __future__ import annotations

from awacs import dynamodb as dynamodb_actions
from awacs import ec2 as ec2_actions
from awacs import secretsmanager as secrets_actions
from awacs import ssm as ssm_actions
from troposphere import AWS_NO_VALUE, Equals, GetAtt, If, Join, Not, Ref, awslambda

from products.builder import (
    OPTIONAL_SECRET_ARN,
    OPTIONAL_SSM_PARAMETER_NAME,
    ProductBuilder,
    ssm_parameter_arn,
)
from products.iam import Grant, allow
from products.spec import Product
from products.widgets import LAUNCHED_ENVIRONMENT, Widget, tool_metric, tool_widget

CHECKS = "Checks"
NETWORK = "Private network (optional)"
# At most 30 minutes apart, so the hourly "did not run" alarm always sees a run when healthy.
SCHEDULES = [
    "rate(1 minute)",
    "rate(5 minutes)",
    "rate(10 minutes)",
    "rate(15 minutes)",
    "rate(30 minutes)",
]


class HealthChecker(Product):
    name = "health-checker"
    handler = "health_checker"
    settings_module = "health_targets"
    title = "On-call health checker"
    summary = (
        "Checks HTTP(S) and TCP endpoints on a schedule, publishes availability and latency, and "
        "alerts the on-call topic when a target goes down or recovers."
    )
    launch_resource_types = frozenset(
        {"AWS::DynamoDB::Table", "AWS::Events::Rule", "AWS::Lambda::Permission"}
    )
    scheduled = True

    def extend(self, builder: ProductBuilder) -> None:
        self._add_parameters(builder)
        builder.condition("TargetsFromParameter", Not(Equals(Ref("TargetsParameterName"), "")))
        builder.condition("HasHeadersSecret", Not(Equals(Ref("HeadersSecretArn"), "")))
        builder.condition("InVpc", Not(Equals(Join("", Ref("SubnetIds")), "")))
        self._require_security_groups_with_subnets(builder)
        self._require_a_source_of_targets(builder)
        self._add_state_table(builder)
        self._add_schedule(builder)
        builder.metric_widgets.extend(metric_widgets())
        builder.vpc_config = If(
            "InVpc",
            awslambda.VPCConfig(
                SubnetIds=Ref("SubnetIds"), SecurityGroupIds=Ref("SecurityGroupIds")
            ),
            Ref(AWS_NO_VALUE),
        )
        builder.environment_variables.update(
            {
                "TARGETS": Ref("TargetsJson"),
                "TARGETS_SSM_PARAMETER": Ref("TargetsParameterName"),
                "STATE_TABLE": Ref(builder.table),
                "FAILURE_THRESHOLD": Ref("FailureThreshold"),
                "CHECK_TIMEOUT_SECONDS": "5",
                "ALLOW_PRIVATE_NETWORKS": Ref("AllowPrivateNetworks"),
            }
        )

    def permissions(self, builder: ProductBuilder) -> list[Grant]:
        return [
            allow(
                [
                    dynamodb_actions.BatchGetItem,
                    dynamodb_actions.BatchWriteItem,
                    dynamodb_actions.PutItem,
                ],
                [GetAtt(builder.table, "Arn")],
                sid="TargetState",
            ),
            allow(
                # GetParametersByPath: a long list split into parameters under the name
                # (an SSM value holds 4-8 KB); it is authorized on the path itself.
                [ssm_actions.GetParameter, ssm_actions.GetParametersByPath],
                [ssm_parameter_arn("TargetsParameterName")],
                sid="ReadTargets",
                when="TargetsFromParameter",
            ),
            allow(
                [secrets_actions.GetSecretValue],
                [Ref("HeadersSecretArn")],
                sid="ReadRequestHeaders",
                when="HasHeadersSecret",
            ),
            allow(
                # Lambda needs these to attach the function to private subnets; the EC2 network
                # interface actions do not support resource-level permissions.
                [
                    ec2_actions.CreateNetworkInterface,
                    ec2_actions.DescribeNetworkInterfaces,
                    ec2_actions.DeleteNetworkInterface,
                    ec2_actions.AssignPrivateIpAddresses,
                    ec2_actions.UnassignPrivateIpAddresses,
                ],
                ["*"],
                sid="AttachToPrivateSubnets",
                when="InVpc",
            ),
        ]

    def _add_parameters(self, builder: ProductBuilder) -> None:
        builder.parameter(
            "ScheduleRate",
            CHECKS,
            "How often to check",
            Type="String",
            Default="rate(5 minutes)",
            AllowedValues=SCHEDULES,
            Description="Every target is checked at this rate.",
        )
        builder.parameter(
            "TargetsJson",
            CHECKS,
            "Targets (JSON, optional)",
            Type="String",
            Default="",
            # All of a function's environment variables share 4 KB; longer lists go in SSM.
            MaxLength=3000,
            Description='JSON list of targets, e.g. [{"name": "api", "type": "http", '
            '"url": "https://api.example.com/health"}] (http targets take url, method, '
            "expected_status, body_contains, latency_ms, timeout_seconds; tcp targets take host "
            "and port); up to 3000 characters, use the SSM parameter for more.",
        )
        builder.parameter(
            "TargetsParameterName",
            CHECKS,
            "SSM parameter with targets (optional)",
            Type="String",
            Default="",
            AllowedPattern=OPTIONAL_SSM_PARAMETER_NAME,
            Description="Name (starting with /) of an SSM parameter holding the targets JSON; "
            "read when TargetsJson is empty.",
        )
        builder.parameter(
            "HeadersSecretArn",
            CHECKS,
            "Secret with request headers (optional)",
            Type="String",
            Default="",
            AllowedPattern=OPTIONAL_SECRET_ARN,
            Description="Secrets Manager secret holding headers (such as Authorization) that "
            "targets reference; headers never appear in the template or environment.",
        )
        builder.parameter(
            "FailureThreshold",
            CHECKS,
            "Failures before alerting",
            Type="Number",
            Default=3,
            MinValue=1,
            MaxValue=10,
            Description="Consecutive failed checks before a target counts as down (flap "
            "suppression).",
        )
        builder.parameter(
            "AllowPrivateNetworks",
            NETWORK,
            "Allow private addresses",
            Type="String",
            Default="false",
            AllowedValues=["true", "false"],
            Description="Allow targets in private ranges (10/8, 172.16/12, 192.168/16, ...). "
            "Link-local and instance-metadata addresses are always refused.",
        )
        builder.parameter(
            "SubnetIds",
            NETWORK,
            "Subnets (optional)",
            Type="CommaDelimitedList",
            Default="",
            Description="Private subnets to run the checks from, for endpoints inside a VPC.",
        )
        builder.parameter(
            "SecurityGroupIds",
            NETWORK,
            "Security groups (optional)",
            Type="CommaDelimitedList",
            Default="",
            Description="Security groups of the function when subnets are given.",
        )

    def _add_state_table(self, builder: ProductBuilder) -> None:
        builder.state_table("StateTable", "-state")

    def _require_security_groups_with_subnets(self, builder: ProductBuilder) -> None:
        # Lambda refuses a VPC configuration with subnets but no security group, and would do so
        # half-way through the stack; the launch form can refuse it up front.
        builder.template.add_rule(
            "SubnetsNeedSecurityGroups",
            {
                "RuleCondition": {"Fn::Not": [{"Fn::EachMemberEquals": [Ref("SubnetIds"), ""]}]},
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Not": [{"Fn::EachMemberEquals": [Ref("SecurityGroupIds"), ""]}]
                        },
                        "AssertDescription": "SubnetIds need SecurityGroupIds as well.",
                    }
                ],
            },
        )

    def _require_a_source_of_targets(self, builder: ProductBuilder) -> None:
        # Without targets every run fails; the launch form (and build, plan and launch, which
        # evaluate Rules too) refuses such a launch before anything is created.
        builder.template.add_rule(
            "TargetsNeeded",
            {
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Not": [
                                {
                                    "Fn::And": [
                                        {"Fn::Equals": [Ref("TargetsJson"), ""]},
                                        {"Fn::Equals": [Ref("TargetsParameterName"), ""]},
                                    ]
                                }
                            ]
                        },
                        "AssertDescription": "A health checker needs targets: set TargetsJson "
                        "or TargetsParameterName.",
                    }
                ]
            },
        )

    def _add_schedule(self, builder: ProductBuilder) -> None:
        builder.event_rule(
            "ScheduleRule", "Runs the health checks", ScheduleExpression=Ref("ScheduleRate")
        )


def metric_widgets() -> list[Widget]:
    """What handlers/health_checker emits: per target up/down and latency, per run totals."""
    handler = HealthChecker.handler
    return [
        tool_widget(
            "Targets up (1) or down (0)",
            tool_metric(
                handler,
                "Availability",
                "Up",
                stat="Minimum",
                dimensions=LAUNCHED_ENVIRONMENT,
                split_by=("Target",),
            ),
        ),
        tool_widget(
            "Target latency (ms)",
            tool_metric(
                handler,
                "LatencyMs",
                "Latency",
                stat="Maximum",
                dimensions=LAUNCHED_ENVIRONMENT,
                split_by=("Target",),
            ),
        ),
        tool_widget(
            "Targets checked, failing, state changes",
            tool_metric(handler, "TargetsChecked", "Checked"),
            tool_metric(handler, "TargetsFailing", "Failing"),
            tool_metric(handler, "Transitions", "Went down or recovered"),
        ),
    ]
