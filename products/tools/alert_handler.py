"""alert-handler: CloudWatch alarms -> deduplicated Slack, Teams, PagerDuty and e-mail notices."""

from __future__ import annotations

import json

from awacs import cloudwatch as cloudwatch_actions
from awacs import dynamodb as dynamodb_actions
from awacs import secretsmanager as secrets_actions
from troposphere import AWS_NO_VALUE, Equals, GetAtt, If, Not, Or, Ref, Sub

from products.builder import OPTIONAL_SECRET_ARN, OPTIONAL_TOPIC_ARN, ProductBuilder
from products.iam import Grant, allow
from products.spec import Product
from products.widgets import LAUNCHED_ENVIRONMENT, Widget, tool_metric, tool_widget

SOURCES = "Alarm sources"
CHANNELS = "Notification channels"
DEFAULT_ROUTES = {
    "critical": ["pagerduty", "slack", "teams", "sns"],
    "warning": ["slack", "teams", "sns"],
    "info": ["sns"],
}
_SECRETS = {
    "SlackSecretArn": ("SLACK_SECRET_ARN", "Slack webhook secret ARN", '{"webhook_url": ...}'),
    "TeamsSecretArn": (
        "TEAMS_SECRET_ARN",
        "Teams Workflows webhook secret ARN",
        '{"webhook_url": ...}',
    ),
    "PagerDutySecretArn": (
        "PAGERDUTY_SECRET_ARN",
        "PagerDuty routing key secret ARN",
        '{"routing_key": ...}',
    ),
}


class AlertHandler(Product):
    name = "alert-handler"
    handler = "alert_handler"
    settings_module = "alert_settings"
    title = "On-call alert handler"
    summary = (
        "Turns CloudWatch alarm state changes into deduplicated notifications on Slack, Microsoft "
        "Teams, PagerDuty and e-mail, including when they resolve."
    )
    launch_resource_types = frozenset(
        {"AWS::DynamoDB::Table", "AWS::Events::Rule", "AWS::Lambda::Permission"}
    )

    def extend(self, builder: ProductBuilder) -> None:
        self._add_parameters(builder)
        builder.condition("FilterAlarmNames", Not(Equals(Ref("AlarmNamePrefix"), "")))
        for parameter in _SECRETS:
            builder.condition(f"Has{parameter}", Not(Equals(Ref(parameter), "")))
        builder.condition("HasAnySecret", Or(*({"Condition": f"Has{p}"} for p in _SECRETS)))
        self._add_dedupe_table(builder)
        builder.subscribe_to_alarm_topic()
        self._add_eventbridge_rule(builder)
        self._allow_direct_alarm_actions(builder)
        builder.metric_widgets.extend(metric_widgets())
        builder.environment_variables.update(
            {
                "DEDUPE_TABLE": Ref(builder.table),
                "DEDUPE_TTL_HOURS": "48",
                "ROUTES": Ref("Routes"),
                "DEFAULT_SEVERITY": "warning",
                **{env: Ref(parameter) for parameter, (env, _, _) in _SECRETS.items()},
            }
        )
        self._require_separate_topics(builder)

    def permissions(self, builder: ProductBuilder) -> list[Grant]:
        return [
            allow(
                [
                    dynamodb_actions.PutItem,
                    dynamodb_actions.UpdateItem,
                    dynamodb_actions.DeleteItem,
                ],
                [GetAtt(builder.table, "Arn")],
                sid="DedupeNotifications",
            ),
            allow(
                [secrets_actions.GetSecretValue],
                [
                    If(f"Has{parameter}", Ref(parameter), Ref(AWS_NO_VALUE))
                    for parameter in _SECRETS
                ],
                sid="ReadChannelCredentials",
                when="HasAnySecret",
            ),
            allow(
                # Severity may come from the alarm's tags.
                [cloudwatch_actions.ListTagsForResource],
                [Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*")],
                sid="ReadAlarmTags",
            ),
        ]

    def _add_parameters(self, builder: ProductBuilder) -> None:
        builder.parameter(
            "AlarmTopicArn",
            SOURCES,
            "SNS topic your alarms notify (optional)",
            Type="String",
            Default="",
            AllowedPattern=OPTIONAL_TOPIC_ARN,
            Description="The handler subscribes to this topic. It must not be the on-call topic "
            "the handler's own alarms use.",
        )
        builder.parameter(
            "AlarmNamePrefix",
            SOURCES,
            "Alarm name prefix filter (optional)",
            Type="String",
            Default="",
            AllowedPattern=r"^[\w .:/#+=@-]{0,200}$",
            ConstraintDescription="At most 200 characters: letters, digits, spaces and "
            ". : / # + = @ _ -",
            Description="Only alarm state changes of alarms whose name starts with this are "
            "handled from EventBridge; empty handles every alarm in the account and region.",
        )
        for parameter, (_, label, shape) in _SECRETS.items():
            builder.parameter(
                parameter,
                CHANNELS,
                label,
                Type="String",
                Default="",
                NoEcho=False,
                AllowedPattern=OPTIONAL_SECRET_ARN,
                Description=f"Secrets Manager secret holding {shape}; empty turns the channel off.",
            )
        builder.parameter(
            "Routes",
            CHANNELS,
            "Severity to channels routing (JSON)",
            Type="String",
            Default=json.dumps(DEFAULT_ROUTES, separators=(",", ":")),
            Description="JSON object: severity -> list of channels (pagerduty, slack, teams, sns).",
        )

    def _add_dedupe_table(self, builder: ProductBuilder) -> None:
        builder.state_table("DedupeTable", "-dedupe")

    def _add_eventbridge_rule(self, builder: ProductBuilder) -> None:
        every_alarm = {
            "source": ["aws.cloudwatch"],
            "detail-type": ["CloudWatch Alarm State Change"],
        }
        with_prefix = {**every_alarm, "detail": {"alarmName": [{"prefix": Ref("AlarmNamePrefix")}]}}
        builder.event_rule(
            "AlarmStateChangeRule",
            "CloudWatch alarm state changes for the alert handler",
            # The condition picks a whole pattern: no intrinsic function inside the pattern.
            EventPattern=If("FilterAlarmNames", with_prefix, every_alarm),
        )

    def _allow_direct_alarm_actions(self, builder: ProductBuilder) -> None:
        # An alarm can name the function as its action; CloudWatch then invokes it directly.
        builder.allow_invoke(
            "AlarmActionInvokePermission",
            "lambda.alarms.cloudwatch.amazonaws.com",
            Sub("arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"),
            same_account=True,
        )

    def _require_separate_topics(self, builder: ProductBuilder) -> None:
        # If the handler's own alarms went to the topic it serves, a broken handler could never
        # tell anyone: its alarm would be delivered to itself.
        builder.template.add_rule(
            "OwnAlarmsGoElsewhere",
            {
                "Assertions": [
                    {
                        "Assert": {
                            "Fn::Or": [
                                {"Fn::Equals": [Ref("AlarmTopicArn"), ""]},
                                {
                                    "Fn::Not": [
                                        {"Fn::Equals": [Ref("AlarmTopicArn"), Ref("AlertTopicArn")]}
                                    ]
                                },
                            ]
                        },
                        "AssertDescription": "AlarmTopicArn and AlertTopicArn must differ: the "
                        "handler's own alarms need a channel that does not depend on the handler.",
                    }
                ]
            },
        )


def metric_widgets() -> list[Widget]:
    """What handlers/alert_handler emits: alarm changes in, and per channel what became of them."""
    handler = AlertHandler.handler
    # The handler counts per channel and environment; the channels a launch uses vary.
    return [
        tool_widget(
            "Alarm changes received",
            tool_metric(handler, "AlarmChangesReceived", "Alarm changes received"),
        ),
        tool_widget(
            "Notifications delivered per channel",
            tool_metric(
                handler,
                "AlertsDelivered",
                "Delivered",
                dimensions=LAUNCHED_ENVIRONMENT,
                split_by=("Channel",),
            ),
            tool_metric(
                handler,
                "AlertsDeduplicated",
                "Deduplicated",
                dimensions=LAUNCHED_ENVIRONMENT,
                split_by=("Channel",),
            ),
        ),
        tool_widget(
            "Notification failures per channel",
            tool_metric(
                handler,
                "AlertDeliveryFailed",
                "Delivery failed",
                dimensions=LAUNCHED_ENVIRONMENT,
                split_by=("Channel",),
            ),
            tool_metric(
                handler,
                "DedupeMarkFailed",
                "Dedupe mark failed",
                dimensions=LAUNCHED_ENVIRONMENT,
                split_by=("Channel",),
            ),
        ),
    ]
