"""log-processor: CloudWatch Logs subscriptions and S3 log objects -> pattern alerts and metrics."""

from __future__ import annotations

from awacs import s3 as s3_actions
from awacs import ssm as ssm_actions
from troposphere import Equals, Not, Ref, Sub, logs

from products.alarms import AlarmSpec
from products.builder import (
    OPTIONAL_SSM_PARAMETER_NAME,
    ProductBuilder,
    ssm_parameter_arn,
)
from products.iam import Grant, allow
from products.spec import Product
from products.widgets import METRICS_NAMESPACE, Widget, tool_metric, tool_widget

GROUP = "Log sources"


class LogProcessor(Product):
    name = "log-processor"
    handler = "log_processor"
    settings_module = "log_rules"
    # Hyperscan (the log engine) is a compiled wheel: one package per architecture and runtime,
    # the template picks the one matching LambdaArchitecture and LambdaRuntime.
    per_platform_packages = True
    title = "On-call log processor"
    summary = (
        "Counts error patterns in CloudWatch Logs and S3 log objects, publishes the counts as "
        "metrics and alerts the on-call topic when a threshold is crossed."
    )
    launch_resource_types = frozenset(
        {"AWS::Events::Rule", "AWS::Lambda::Permission", "AWS::Logs::SubscriptionFilter"}
    )

    def extend(self, builder: ProductBuilder) -> None:
        self._add_parameters(builder)
        builder.condition("SubscribeLogGroup", Not(Equals(Ref("LogGroupName"), "")))
        builder.condition("ReadLogBucket", Not(Equals(Ref("LogBucketName"), "")))
        builder.condition("RulesFromParameter", Not(Equals(Ref("RulesParameterName"), "")))
        self._add_log_group_subscription(builder)
        self._add_bucket_rule(builder)
        builder.environment_variables.update(
            {
                "OWN_LOG_GROUP": Ref(builder.log_group),
                "RULES_SSM_PARAMETER": Ref("RulesParameterName"),
                "SAMPLE_LINES": "5",
            }
        )
        self._refuse_own_log_group(builder)
        builder.extra_alarms.append(scans_cut_short_alarm(builder))
        builder.metric_widgets.extend(metric_widgets(builder))

    def permissions(self, builder: ProductBuilder) -> list[Grant]:
        return [
            allow(
                [s3_actions.GetObject],
                [Sub("arn:${AWS::Partition}:s3:::${LogBucketName}/*")],
                sid="ReadLogObjects",
                when="ReadLogBucket",
            ),
            allow(
                [ssm_actions.GetParameter],
                [ssm_parameter_arn("RulesParameterName")],
                sid="ReadRules",
                when="RulesFromParameter",
            ),
        ]

    def _add_parameters(self, builder: ProductBuilder) -> None:
        builder.parameter(
            "LogGroupName",
            GROUP,
            "Log group to watch (optional)",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[\.\-_/#A-Za-z0-9]{1,512}$",
            ConstraintDescription="Leave empty, or give a log group name: up to 512 letters, "
            "digits, dots, hyphens, underscores, slashes and #.",
            Description="The tool subscribes to this CloudWatch Logs group. A log group takes at "
            "most two subscription filters. Never the tool's own log group.",
        )
        builder.parameter(
            "FilterPattern",
            GROUP,
            "Subscription filter pattern",
            Type="String",
            Default="",
            Description="CloudWatch Logs filter pattern; empty sends every event to the tool.",
        )
        builder.parameter(
            "LogBucketName",
            GROUP,
            "S3 bucket of log objects (optional)",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
            ConstraintDescription="Leave empty, or give an S3 bucket name: 3 to 63 lowercase "
            "letters, digits, dots or hyphens, starting and ending with a letter or digit.",
            Description="New objects in this bucket are scanned (gzip or plain text). The bucket "
            "must have Amazon EventBridge notifications turned on.",
        )
        builder.parameter(
            "RulesParameterName",
            "Detection rules",
            "SSM parameter with rules (optional)",
            Type="String",
            Default="",
            AllowedPattern=OPTIONAL_SSM_PARAMETER_NAME,
            Description="Name (starting with /) of an SSM parameter holding a JSON list of rules "
            "{name, pattern, severity, threshold}; empty uses the built-in rules.",
        )

    def _add_log_group_subscription(self, builder: ProductBuilder) -> None:
        permission = builder.allow_invoke(
            "LogsInvokePermission",
            "logs.amazonaws.com",
            Sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                "${LogGroupName}:*"
            ),
            condition="SubscribeLogGroup",
            same_account=True,
        )
        subscription = builder.add(
            logs.SubscriptionFilter(
                "LogGroupSubscription",
                Condition="SubscribeLogGroup",
                LogGroupName=Ref("LogGroupName"),
                FilterPattern=Ref("FilterPattern"),
                DestinationArn=builder.function_arn,
            )
        )
        subscription.DependsOn = [permission]

    def _add_bucket_rule(self, builder: ProductBuilder) -> None:
        builder.event_rule(
            "LogObjectCreatedRule",
            "New log objects in the watched bucket",
            condition="ReadLogBucket",
            EventPattern={
                "source": ["aws.s3"],
                "detail-type": ["Object Created"],
                "detail": {"bucket": {"name": [Ref("LogBucketName")]}},
            },
        )

    def _refuse_own_log_group(self, builder: ProductBuilder) -> None:
        # Subscribing the tool to its own log group would invoke it on its own output forever.
        own = builder.own_log_group_names()
        builder.template.add_rule(
            "NotOwnLogGroup",
            {
                "Assertions": [
                    {
                        "Assert": {"Fn::Not": [{"Fn::Contains": [own, Ref("LogGroupName")]}]},
                        "AssertDescription": "LogGroupName must not be the log processor's own "
                        f"log group ({', '.join(own)}): it would process its own output forever.",
                    }
                ]
            },
        )


def scans_cut_short_alarm(builder: ProductBuilder) -> AlarmSpec:
    """The handler stops reading an S3 object when its time runs out, and counts that here."""
    return AlarmSpec(
        "ScansCutShortAlarm",
        "-scans-cut-short",
        "The log processor ran out of time before the end of an S3 log object, so lines after "
        "that point were not checked. Its log has a 'scan cut short' warning naming the object; "
        "raise the function's timeout for this environment or have the source write smaller "
        "objects.",
        METRICS_NAMESPACE,
        "ScansCutShort",
        {"FunctionName": Ref(builder.function), "service": LogProcessor.handler},
        "Sum",
        1,
        "GreaterThanOrEqualToThreshold",
        builder.setting("AlarmPeriod"),
        1,
    )


def metric_widgets(builder: ProductBuilder) -> list[Widget]:
    """What handlers/log_processor emits: lines, pattern matches per rule, alerts, skips."""
    handler = LogProcessor.handler
    return [
        tool_widget(
            "Pattern matches per log group and rule",
            tool_metric(handler, "RuleMatches", "Matches", split_by=("LogGroup", "Rule")),
        ),
        tool_widget(
            "Lines scanned and alerts published",
            tool_metric(handler, "LinesScanned", "Lines scanned"),
            tool_metric(handler, "AlertsPublished", "Alerts published"),
        ),
        tool_widget(
            "Control messages, own log group skipped, scans cut short",
            tool_metric(handler, "ControlMessages", "Control messages"),
            tool_metric(handler, "OwnLogGroupSkipped", "Own log group skipped"),
            tool_metric(
                handler,
                "ScansCutShort",
                "Scans cut short",
                dimensions=(("FunctionName", builder.names.base()),),
            ),
        ),
    ]
