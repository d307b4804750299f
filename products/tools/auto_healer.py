"""auto-healer: safe, opt-in remediation of EC2 instances and ECS services."""

from __future__ import annotations

from typing import Any

from awacs import autoscaling as autoscaling_actions
from awacs import dynamodb as dynamodb_actions
from awacs import ec2 as ec2_actions
from awacs import ecs as ecs_actions
from awacs import ssm as ssm_actions
from awacs.aws import Condition, StringEquals
from troposphere import Equals, GetAtt, Not, Ref, Sub

from products.builder import OPTIONAL_TOPIC_ARN, ProductBuilder
from products.iam import Grant, allow
from products.spec import Product
from products.widgets import Widget, tool_metric, tool_widget

SAFETY = "Safety"
SOURCES = "Triggers"
# The opt-in tag key is a launch parameter, but IAM condition keys (aws:ResourceTag/<key>) cannot
# come from parameters: the choices are fixed when the product is built (catalog.yaml
# products.auto-healer.build.opt_in_tag_keys, the first is the default), and the role gets one
# statement per choice, present only when that choice is launched.
DEFAULT_OPT_IN_TAG_KEYS = ["oncall:auto-heal"]
BUILD_SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "opt_in_tag_keys": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10,
            "uniqueItems": True,
            # AWS tag keys: 1-128 characters of this set, not starting with "aws:".
            "items": {"type": "string", "pattern": r"^(?!aws:)[\w .:/=+\-@]{1,128}$"},
        },
    },
}
HEALABLE_NAMESPACES = ["AWS/EC2", "AWS/ECS", "ECS/ContainerInsights"]


class AutoHealer(Product):
    name = "auto-healer"
    handler = "auto_healer"
    title = "On-call auto-healer"
    summary = (
        "Remediates opted-in EC2 instances (reboot, stop/start) and ECS services (new "
        "deployment) on alarms and service events, with dry-run, cooldowns and an hourly cap."
    )
    launch_resource_types = frozenset(
        {"AWS::DynamoDB::Table", "AWS::Events::Rule", "AWS::Lambda::Permission"}
    )

    build_settings_schema = BUILD_SETTINGS_SCHEMA

    def opt_in_tag_keys(self, builder: ProductBuilder) -> list[str]:
        return list(builder.build_settings.get("opt_in_tag_keys", DEFAULT_OPT_IN_TAG_KEYS))

    def extend(self, builder: ProductBuilder) -> None:
        self._add_parameters(builder)
        self._add_opt_in_tag_key(builder)
        builder.condition("UsesAutomation", Not(Equals(Ref("AutomationDocumentName"), "")))
        builder.state_table("StateTable", "-state")
        self._add_rules(builder)
        builder.subscribe_to_alarm_topic()
        builder.metric_widgets.extend(metric_widgets())
        builder.environment_variables.update(
            {
                "OPT_IN_TAG_KEY": Ref("OptInTagKey"),
                "DRY_RUN": Ref("DryRun"),
                "COOLDOWN_MINUTES": Ref("CooldownMinutes"),
                "MAX_ACTIONS_PER_HOUR": Ref("MaxActionsPerHour"),
                "STATE_TABLE": Ref(builder.table),
                "AUTOMATION_DOCUMENT": Ref("AutomationDocumentName"),
            }
        )

    def permissions(self, builder: ProductBuilder) -> list[Grant]:
        services = Sub("arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/*/*")
        return [
            *self._opted_in_grants(builder, services),
            allow(
                # The opt-in tag is read with the service (DescribeServices include=TAGS).
                [ecs_actions.DescribeServices],
                [services],
                sid="InspectServices",
            ),
            allow(
                # Describe actions of EC2 and Auto Scaling do not support resource-level scope.
                [
                    ec2_actions.DescribeInstances,
                    autoscaling_actions.DescribeAutoScalingInstances,
                ],
                ["*"],
                sid="InspectInstances",
            ),
            allow(
                # DeleteItem releases a cooldown after a failed action so the retry may act.
                [
                    dynamodb_actions.GetItem,
                    dynamodb_actions.PutItem,
                    dynamodb_actions.UpdateItem,
                    dynamodb_actions.DeleteItem,
                ],
                [GetAtt(builder.table, "Arn")],
                sid="CooldownsAndHourlyCap",
            ),
            allow(
                [ssm_actions.StartAutomationExecution],
                [
                    Sub(
                        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                        "automation-definition/${AutomationDocumentName}:*"
                    ),
                    # Runbooks AWS owns (AWS-RestartEC2Instance, ...) have no account in the ARN.
                    Sub(
                        "arn:${AWS::Partition}:ssm:${AWS::Region}::"
                        "automation-definition/${AutomationDocumentName}:*"
                    ),
                ],
                sid="StartRunbook",
                when="UsesAutomation",
            ),
            allow(
                [ssm_actions.GetAutomationExecution],
                [
                    Sub(
                        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:"
                        "automation-execution/*"
                    )
                ],
                sid="CheckRunbook",
                when="UsesAutomation",
            ),
        ]

    def _opted_in_grants(self, builder: ProductBuilder, services: Sub) -> list[Grant]:
        """Acting rights on resources tagged <key>=true, for the key chosen at launch only."""
        instances = Sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:instance/*")
        keys = self.opt_in_tag_keys(builder)
        grants = []
        for number, key in enumerate(keys, start=1):
            opted_in = Condition(StringEquals(f"aws:ResourceTag/{key}", "true"))
            # With one choice there is nothing to choose: the statements are unconditional.
            chosen = _opt_in_condition(number) if len(keys) > 1 else None
            grants += [
                allow(
                    [
                        ec2_actions.RebootInstances,
                        ec2_actions.StopInstances,
                        ec2_actions.StartInstances,
                    ],
                    [instances],
                    opted_in,
                    sid=f"HealOptedInInstances{number}",
                    when=chosen,
                ),
                allow(
                    [ecs_actions.UpdateService],
                    [services],
                    opted_in,
                    sid=f"RedeployOptedInServices{number}",
                    when=chosen,
                ),
            ]
        return grants

    def _add_opt_in_tag_key(self, builder: ProductBuilder) -> None:
        keys = self.opt_in_tag_keys(builder)
        builder.parameter(
            "OptInTagKey",
            SAFETY,
            "Opt-in tag key",
            Type="String",
            Default=keys[0],
            AllowedValues=keys,
            Description="Only EC2 instances and ECS services tagged with this key and the value "
            "true are healed. The choices are set by the platform team, because the role's "
            "permissions are built for each.",
        )
        if len(keys) > 1:
            for number, key in enumerate(keys, start=1):
                builder.condition(_opt_in_condition(number), Equals(Ref("OptInTagKey"), key))

    def _add_parameters(self, builder: ProductBuilder) -> None:
        builder.parameter(
            "DryRun",
            SAFETY,
            "Dry run",
            Type="String",
            Default="true",
            AllowedValues=["true", "false"],
            Description="When true the healer only reports what it would do. Turn it off once "
            "the reports look right.",
        )
        builder.parameter(
            "CooldownMinutes",
            SAFETY,
            "Cooldown per resource (minutes)",
            Type="Number",
            Default=30,
            MinValue=1,
            MaxValue=1440,
            Description="After acting on a resource, leave it alone for this long.",
        )
        builder.parameter(
            "MaxActionsPerHour",
            SAFETY,
            "Maximum actions per hour",
            Type="Number",
            Default=5,
            MinValue=1,
            MaxValue=100,
            Description="Blast-radius cap: no more remediations than this in any clock hour.",
        )
        builder.parameter(
            "AlarmTopicArn",
            SOURCES,
            "SNS topic of EC2/ECS alarms (optional)",
            Type="String",
            Default="",
            AllowedPattern=OPTIONAL_TOPIC_ARN,
            Description="Also react to alarms delivered through this topic (EventBridge alarm "
            "state changes are always handled).",
        )
        builder.parameter(
            "AutomationDocumentName",
            SOURCES,
            "SSM Automation runbook (optional)",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[a-zA-Z0-9_.-]{3,128}$",
            ConstraintDescription="Leave empty, or give an SSM document name: 3 to 128 letters, "
            "digits, dots, underscores or hyphens.",
            Description="When set, EC2 issues start this runbook (with InstanceId) instead of "
            "a reboot or stop/start; ECS services still get a new deployment.",
        )

    def _add_rules(self, builder: ProductBuilder) -> None:
        alarm_pattern = {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {
                "state": {"value": ["ALARM"]},
                "configuration": {
                    "metrics": {"metricStat": {"metric": {"namespace": HEALABLE_NAMESPACES}}}
                },
            },
        }
        # The healer acts on tasks that cannot start; steady-state and other service events
        # would only invoke it to be ignored.
        service_pattern = {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Service Action"],
            "detail": {"eventName": ["SERVICE_TASK_START_IMPAIRED"]},
        }
        for logical_id, description, pattern in (
            ("AlarmRule", "EC2 and ECS alarms for the auto-healer", alarm_pattern),
            ("ServiceEventRule", "ECS service events for the auto-healer", service_pattern),
        ):
            builder.event_rule(logical_id, description, EventPattern=pattern)


def _opt_in_condition(number: int) -> str:
    return f"OptInTagKey{number}Chosen"


def metric_widgets() -> list[Widget]:
    """What handlers/auto_healer emits: one count per decision outcome."""
    handler = AutoHealer.handler
    return [
        tool_widget(
            "Heals done",
            tool_metric(handler, "ActionsTaken", "Actions taken"),
            tool_metric(handler, "DryRunActions", "Dry-run actions"),
        ),
        tool_widget(
            "Heals skipped, failed, events ignored",
            tool_metric(handler, "ActionsSkipped", "Skipped (guard)"),
            tool_metric(handler, "ActionsFailed", "Failed"),
            tool_metric(handler, "EventsIgnored", "Events ignored"),
        ),
    ]
