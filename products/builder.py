"""The shared product builder: everything a tool gets besides its own triggers and permissions.

For one tool it assembles the Lambda function, its least-privilege role, log group, encrypted
dead-letter queue wired as the on-failure destination, alarms that notify (ALARM and OK) the
on-call topic, the Environment parameter with one mapping entry per configured environment, and
the launch-form metadata. Building reads only its inputs: same inputs, same template.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from awacs import kms as kms_actions
from awacs import logs as logs_actions
from awacs import sns as sns_actions
from awacs import sqs as sqs_actions
from awacs import xray as xray_actions
from awacs.aws import Allow, Condition, PolicyDocument, Principal, Statement, StringEquals
from awacs.helpers.trust import make_simple_assume_policy
from troposphere import (
    AWS_ACCOUNT_ID,
    AWS_NO_VALUE,
    And,
    AWSObject,
    Equals,
    FindInMap,
    GetAtt,
    If,
    Join,
    Not,
    Output,
    Parameter,
    Ref,
    Sub,
    Tags,
    Template,
    awslambda,
    cloudwatch,
    dynamodb,
    events,
    iam,
    kms,
    logs,
    sns,
    sqs,
)

from catalog.config import CatalogConfig
from products.alarms import AlarmSpec, Watched, build_alarm, standard_alarms
from products.build_settings import checked_build_settings
from products.dashboard_body import DASHBOARD_SUFFIX, dashboard_body
from products.environment import (
    ENVIRONMENT_PARAMETER,
    INSTANCE_PARAMETER,
    LAUNCHED_INSTANCE,
    NAMED_INSTANCE_CONDITION,
    SETTINGS_MAP,
    ResourceNames,
    named_instance_condition,
    setting,
    sub,
)
from products.errors import BuildError
from products.iam import Grant
from products.iam import statement as allow
from products.key_policy import TOOL_KEY_TAG, account_administers_key, logs_use_key
from products.packaging import LambdaPlatform
from products.widgets import (
    METRICS_NAMESPACE,
    LaunchText,
    Widget,
    alarm_widget,
    standard_widgets,
)

AWSObjectT = TypeVar("AWSObjectT", bound=AWSObject)

POLICY_VERSION = "2012-10-17"
# Launch-form group of the parameters most teams leave alone (runtime, boundary).
ADVANCED_GROUP = "Advanced"
# AllowedPattern of optional parameters that name an AWS resource (empty: not used).
OPTIONAL_TOPIC_ARN = r"^$|^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$"
OPTIONAL_SECRET_ARN = r"^$|^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[\w/+=.@-]+$"  # noqa: S105 (a pattern for ARNs, not a secret)
OPTIONAL_SSM_PARAMETER_NAME = r"^$|^/[\w./-]{1,1010}$"
# What the console shows when a value does not match: plain words, never the pattern itself.
_PATTERN_WORDS = {
    OPTIONAL_TOPIC_ARN: "Leave empty, or give an SNS topic ARN such as "
    "arn:aws:sns:us-east-1:123456789012:oncall.",
    OPTIONAL_SECRET_ARN: "Leave empty, or give the full ARN of a Secrets Manager secret, such as "
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:slack-AbCdEf.",
    OPTIONAL_SSM_PARAMETER_NAME: "Leave empty, or give an SSM parameter name that starts with / "
    "(letters, digits, dots, underscores, hyphens and slashes).",
}
# Lambda retries a failed asynchronous invocation twice before the on-failure destination.
ASYNC_RETRY_ATTEMPTS = 2
# Six hours: long enough to ride out a downstream outage, short enough not to page on stale news.
ASYNC_MAX_EVENT_AGE_SECONDS = 21600
DLQ_RETENTION_SECONDS = 1209600  # 14 days, the SQS maximum: time to inspect and redrive.
# What build() adds to every product; a tool declares the types it adds itself
# (Product.launch_resource_types), and the launch role is granted both (products/launch_role.py).
SHARED_RESOURCE_TYPES = frozenset(
    {
        "AWS::CloudWatch::Alarm",
        "AWS::CloudWatch::Dashboard",
        "AWS::IAM::Role",
        "AWS::KMS::Alias",
        "AWS::KMS::Key",
        "AWS::Lambda::EventInvokeConfig",
        "AWS::Lambda::Function",
        "AWS::Logs::LogGroup",
        "AWS::SNS::Subscription",
        "AWS::SNS::Topic",
        "AWS::SQS::Queue",
    }
)


@dataclass
class _Interface:
    groups: dict[str, list[str]] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def _in_form_order(self) -> list[tuple[str, list[str]]]:
        # In order of declaration, but the rarely touched Advanced group at the end of the form,
        # after the tool's own settings.
        return sorted(self.groups.items(), key=lambda item: item[0] == ADVANCED_GROUP)

    def add(self, group: str, name: str, label: str) -> None:
        self.groups.setdefault(group, []).append(name)
        self.labels[name] = label

    def metadata(self) -> dict[str, Any]:
        return {
            "AWS::CloudFormation::Interface": {
                "ParameterGroups": [
                    {"Label": {"default": group}, "Parameters": names}
                    for group, names in self._in_form_order()
                ],
                "ParameterLabels": {
                    name: {"default": label} for name, label in self.labels.items()
                },
            }
        }


class ProductDefinition(Protocol):
    """What the builder reads of a tool type (products.spec.Product is the one implementation).

    A protocol rather than an import of products.spec, so the builder and the products it builds
    do not import each other.
    """

    @property
    def name(self) -> str: ...
    @property
    def handler(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def scheduled(self) -> bool: ...
    @property
    def build_settings_schema(self) -> dict[str, Any]: ...
    @property
    def launch_resource_types(self) -> frozenset[str]: ...

    def extend(self, builder: ProductBuilder) -> None: ...
    def permissions(self, builder: ProductBuilder) -> list[Grant]: ...


class ProductBuilder:
    """Builds one product's template. Tools extend it through Product.extend/permissions.

    The shared resources exist from the start (the function's role, environment and VPC
    placement are completed after the tool has extended the builder), so a tool can point
    triggers and grants at them: it passes these handles to Ref/GetAtt, never logical ids.
    """

    def __init__(
        self,
        product: ProductDefinition,
        config: CatalogConfig,
        package_key: str,
        platform_keys: Mapping[LambdaPlatform, str] | None = None,
    ) -> None:
        self.product = product
        self.config = config
        self.package_key = package_key
        # A tool with compiled dependencies: its package per LambdaArchitecture x LambdaRuntime.
        self.platform_keys = dict(platform_keys or {})
        self.names = ResourceNames(config.catalog["resource_prefix"], product.name)
        self.build_settings = checked_build_settings(
            config, product.name, product.build_settings_schema
        )
        self.template = Template()
        self.environment_variables: dict[str, Any] = {}
        self.extra_alarms: list[AlarmSpec] = []
        # The charts of the metrics the tool's handler emits (products/widgets.py: tool_metric);
        # the dashboard test checks every metric the handler emits is on one.
        self.metric_widgets: list[Widget] = []
        # Filled by build(): the whole dashboard, declared (products/dashboard.py).
        self.dashboard_widgets: list[Widget] = []
        # A tool that runs in private subnets replaces this with its VpcConfig.
        self.vpc_config: Any = Ref(AWS_NO_VALUE)
        self._interface = _Interface()
        self._state_table: dynamodb.Table | None = None
        self.key = self._encryption_key()
        self.new_alert_topic = self._new_alert_topic()
        self.dead_letter_queue = self._dead_letter_queue()
        self.log_group = self._log_group()
        self.function = self._function()

    # -- the pieces tools use -------------------------------------------------------------------

    def parameter(self, name: str, group: str, label: str, **properties: Any) -> Ref:
        """Add a launch-form parameter shown under GROUP with LABEL; returns a Ref to it.

        A constrained parameter gets a ConstraintDescription in plain words: derived from its
        AllowedValues, range or length, or for a pattern given (or known for a shared pattern).
        """
        words = properties.get("ConstraintDescription") or constraint_words(properties)
        if words is None and "AllowedPattern" in properties:
            raise BuildError(
                f"{self.product.name}: parameter {name} has an AllowedPattern but no "
                "ConstraintDescription; say in plain words what a valid value looks like"
            )
        if words is not None:
            properties["ConstraintDescription"] = words
        self.template.add_parameter(Parameter(name, **properties))
        self._interface.add(group, name, label)
        return Ref(name)

    def condition(self, name: str, expression: Any) -> str:
        self.template.add_condition(name, expression)
        return name

    def add(self, resource: AWSObjectT) -> AWSObjectT:
        """Add RESOURCE to the template; returns it, the handle to pass to Ref and GetAtt."""
        self.template.add_resource(resource)
        return resource

    def output(self, name: str, value: Any, description: str) -> None:
        self.template.add_output(Output(name, Value=value, Description=description))

    def setting(self, key: str) -> FindInMap:
        """The selected environment's value of one EnvironmentSettings mapping key."""
        return setting(key)

    def state_table(self, logical_id: str, suffix: str) -> dynamodb.Table:
        """A table keyed by "pk" with TTL on "expires_at", encrypted with the tool's key.

        A tool has at most one; `table` hands it to the tool's permissions.
        """
        if self._state_table is not None:
            raise BuildError(
                f"{self.product.name}: a second state table {logical_id!r}; a tool keeps its "
                f"state in one table ({self._state_table.title!r})"
            )
        self._state_table = self.add(
            dynamodb.Table(
                logical_id,
                TableName=self.names.in_region(suffix),
                BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[
                    dynamodb.AttributeDefinition(AttributeName="pk", AttributeType="S")
                ],
                KeySchema=[dynamodb.KeySchema(AttributeName="pk", KeyType="HASH")],
                TimeToLiveSpecification=dynamodb.TimeToLiveSpecification(
                    AttributeName="expires_at", Enabled=True
                ),
                SSESpecification=dynamodb.SSESpecification(
                    SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=Ref(self.key)
                ),
                PointInTimeRecoverySpecification=dynamodb.PointInTimeRecoverySpecification(
                    PointInTimeRecoveryEnabled=True
                ),
            )
        )
        return self._state_table

    @property
    def table(self) -> dynamodb.Table:
        """The tool's state table (see state_table)."""
        if self._state_table is None:
            raise BuildError(f"{self.product.name}: no state table; add it with state_table()")
        return self._state_table

    def allow_invoke(
        self,
        logical_id: str,
        principal: str,
        source_arn: Any,
        *,
        condition: str | None = None,
        same_account: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> awslambda.Permission:
        """Let PRINCIPAL invoke the function, only from SOURCE_ARN (and this account if asked)."""
        properties: dict[str, Any] = {
            "Action": "lambda:InvokeFunction",
            "FunctionName": self.function_arn,
            "Principal": principal,
            "SourceArn": source_arn,
        }
        if same_account:
            properties["SourceAccount"] = Ref(AWS_ACCOUNT_ID)
        if condition:
            properties["Condition"] = condition
        if metadata:
            properties["Metadata"] = metadata
        return self.add(awslambda.Permission(logical_id, **properties))

    def event_rule(
        self, logical_id: str, description: str, condition: str | None = None, **trigger: Any
    ) -> events.Rule:
        """An EventBridge rule (EventPattern or ScheduleExpression) that invokes the function."""
        if condition:
            trigger["Condition"] = condition
        rule = self.add(
            events.Rule(
                logical_id,
                Description=description,
                Targets=[events.Target(Id=self.product.name, Arn=self.function_arn)],
                **trigger,
            )
        )
        self.allow_invoke(
            f"{logical_id}InvokePermission",
            "events.amazonaws.com",
            GetAtt(rule, "Arn"),
            condition=condition,
        )
        return rule

    def subscribe_to_alarm_topic(self) -> None:
        """Subscribe the function to the AlarmTopicArn parameter's topic when it is set."""
        self.condition("SubscribeAlarmTopic", Not(Equals(Ref("AlarmTopicArn"), "")))
        self.add(
            sns.SubscriptionResource(
                "AlarmTopicSubscription",
                Condition="SubscribeAlarmTopic",
                Protocol="lambda",
                TopicArn=Ref("AlarmTopicArn"),
                Endpoint=self.function_arn,
            )
        )
        self.allow_invoke(
            "SnsInvokePermission",
            "sns.amazonaws.com",
            Ref("AlarmTopicArn"),
            condition="SubscribeAlarmTopic",
            metadata=checkov_skips(
                {
                    "CKV_AWS_364": "SourceArn is the AlarmTopicArn parameter; the permission "
                    "exists only when that parameter is set",
                }
            ),
        )

    @property
    def function_arn(self) -> GetAtt:
        return GetAtt(self.function, "Arn")

    @property
    def alert_topic(self) -> If:
        """The on-call topic: the one given at launch, or the one the product creates."""
        return If("CreateAlertTopic", Ref(self.new_alert_topic), Ref("AlertTopicArn"))

    @property
    def key_arn(self) -> GetAtt:
        return GetAtt(self.key, "Arn")

    def own_log_group_names(self) -> list[str]:
        """The default instance's log group name in every environment (tools must never consume
        them; a template Rule cannot build a named instance's, the handlers skip their own)."""
        return [self.names.log_group(env, "") for env in self.config.environment_names]

    def own_log_group_arn(self) -> Sub:
        return sub(
            "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
            + self.names.log_group()
        )

    # -- assembly -------------------------------------------------------------------------------

    def build(self) -> Template:
        self.template.set_version("2010-09-09")
        self.template.set_description(
            f"On-call Tools Catalog: {self.product.title}. {self.product.summary}"
        )
        self._add_common_parameters()
        self._add_environment_mapping()
        self._add_common_conditions()
        self._add_encryption_key()
        self._add_alert_topic()
        self.add(self.dead_letter_queue)
        self.add(self.log_group)
        self.product.extend(self)
        role = self._add_role(self.product.permissions(self))
        self._add_function(role)
        self._add_invoke_config()
        alarms = self._add_alarms()
        self._add_dashboard()
        self._add_outputs(role, alarms)
        self.template.set_metadata(self._interface.metadata())
        return self.template

    def _add_common_parameters(self) -> None:
        self.parameter(
            ENVIRONMENT_PARAMETER,
            "Environment",
            "Environment",
            Type="String",
            AllowedValues=self.config.environment_names,
            Default=self.config.environment_names[0],
            Description="Selects memory, timeout, log retention, concurrency and alarm "
            "thresholds for this environment, as set by the platform team.",
        )
        self._add_instance_parameter()
        self.parameter(
            "AlertTopicArn",
            "On-call notifications",
            "Existing on-call SNS topic ARN",
            Type="String",
            Default="",
            AllowedPattern=OPTIONAL_TOPIC_ARN,
            Description="Alarms and alerts go to this topic (ALARM and OK). Leave empty to "
            "create a new KMS-encrypted topic for this tool.",
        )
        self.parameter(
            "AlertEmail",
            "On-call notifications",
            "E-mail for a new topic (optional)",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[^@\s]+@[^@\s]+$",
            ConstraintDescription="Leave empty, or give one e-mail address, such as "
            "oncall@example.com.",
            Description="Subscribed to the new topic when AlertTopicArn is empty. "
            "The address must confirm the subscription.",
        )
        self.parameter(
            "PermissionsBoundaryArn",
            ADVANCED_GROUP,
            "Permissions boundary policy ARN (optional)",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^arn:aws[a-z-]*:iam::\d{12}:policy/.+$",
            ConstraintDescription="Leave empty, or give an IAM managed policy ARN, such as "
            "arn:aws:iam::123456789012:policy/Boundary.",
            Description="Attached to the function's role when your account requires one.",
        )
        self.parameter(
            "LambdaRuntime",
            ADVANCED_GROUP,
            "Lambda runtime",
            Type="String",
            Default="python3.13",
            AllowedValues=["python3.12", "python3.13"],
            Description="Python runtime of the function.",
        )
        self.parameter(
            "LambdaArchitecture",
            ADVANCED_GROUP,
            "Lambda architecture",
            Type="String",
            Default="arm64",
            AllowedValues=["arm64", "x86_64"],
            Description=(
                "arm64 (Graviton) costs less; a package is built for each architecture."
                if self.platform_keys
                else "arm64 (Graviton) costs less; the package is pure Python and runs on both."
            ),
        )

    def _add_instance_parameter(self) -> None:
        limit = self.names.instance_name_limit(
            self.config.environment_names, self.config.portfolio["regions"]
        )
        self.parameter(
            INSTANCE_PARAMETER,
            "Environment",
            "Instance name (optional)",
            Type="String",
            Default="",
            MaxLength=limit,
            AllowedPattern=r"^$|^[a-z][a-z0-9-]*$",
            ConstraintDescription=(
                f"Leave it empty, or use 1 to {limit} lowercase letters, digits and hyphens, "
                "starting with a letter."
                if limit
                else "Leave it empty: the resource prefix, tool and environment names leave no "
                "room for an instance name in IAM's 64-character role names."
            ),
            Description="Empty for the tool's one default instance. To run several instances "
            "of this tool in one account, region and environment, give each its own name: it "
            "goes into every resource name and alarm name.",
        )

    def _add_environment_mapping(self) -> None:
        mapping = {
            env: environment_mapping_entry(self.config.settings_for(self.product.name, env))
            for env in self.config.environment_names
        }
        self.template.add_mapping(SETTINGS_MAP, mapping)

    def _add_common_conditions(self) -> None:
        self.condition(NAMED_INSTANCE_CONDITION, named_instance_condition())
        self.condition("CreateAlertTopic", Equals(Ref("AlertTopicArn"), ""))
        self.condition(
            "SubscribeAlertEmail",
            And({"Condition": "CreateAlertTopic"}, Not(Equals(Ref("AlertEmail"), ""))),
        )
        self.condition("HasPermissionsBoundary", Not(Equals(Ref("PermissionsBoundaryArn"), "")))
        self.condition("TracingActive", Equals(self.setting("TracingMode"), "Active"))

    # -- the shared resources: declared in __init__, added in build -----------------------------

    def _encryption_key(self) -> kms.Key:
        return kms.Key(
            "EncryptionKey",
            Description=self.names.in_region(" encryption of logs, dead letters, alerts and state"),
            EnableKeyRotation=True,
            KeyPolicy=_key_policy(self.own_log_group_arn()),
            # What the launch role's KMS statements require (products/launch_role.py).
            Tags=Tags({TOOL_KEY_TAG: self.config.catalog["resource_prefix"]}),
        )

    def _add_encryption_key(self) -> None:
        self.add(self.key)
        self.add(
            kms.Alias(
                "EncryptionKeyAlias",
                AliasName=sub(f"alias/{self.names.base()}"),
                TargetKeyId=Ref(self.key),
            )
        )

    def _new_alert_topic(self) -> sns.Topic:
        return sns.Topic(
            "AlertTopic",
            Condition="CreateAlertTopic",
            TopicName=self.names.in_region("-alerts"),
            DisplayName=sub(f"On-call {self.product.name}{LAUNCHED_INSTANCE} ${{Environment}}"),
            KmsMasterKeyId=Ref(self.key),
        )

    def _add_alert_topic(self) -> None:
        self.add(self.new_alert_topic)
        self.add(
            sns.SubscriptionResource(
                "AlertEmailSubscription",
                Condition="SubscribeAlertEmail",
                Protocol="email",
                Endpoint=Ref("AlertEmail"),
                TopicArn=Ref(self.new_alert_topic),
            )
        )

    def _dead_letter_queue(self) -> sqs.Queue:
        return sqs.Queue(
            "DeadLetterQueue",
            QueueName=self.names.in_region("-dlq"),
            KmsMasterKeyId=Ref(self.key),
            MessageRetentionPeriod=DLQ_RETENTION_SECONDS,
        )

    def _log_group(self) -> logs.LogGroup:
        return logs.LogGroup(
            "FunctionLogGroup",
            LogGroupName=sub(self.names.log_group()),
            RetentionInDays=self.setting("LogRetentionInDays"),
            KmsKeyId=self.key_arn,
        )

    def _package_key_choice(self) -> Any:
        """The package key; per architecture and runtime for a tool with compiled dependencies."""
        if not self.platform_keys:
            return self.package_key
        on_x86 = self.condition("PackageForX86", Equals(Ref("LambdaArchitecture"), "x86_64"))
        on_312 = self.condition("PackageForPython312", Equals(Ref("LambdaRuntime"), "python3.12"))
        keys = {(p.architecture, p.runtime): key for p, key in self.platform_keys.items()}

        def by_runtime(architecture: str) -> If:
            return If(on_312, keys[architecture, "python3.12"], keys[architecture, "python3.13"])

        return If(on_x86, by_runtime("x86_64"), by_runtime("arm64"))

    def _function(self) -> awslambda.Function:
        """The function without what the tool decides: role, environment and VPC placement."""
        return awslambda.Function(
            "Function",
            Metadata=checkov_skips(
                {
                    # Asynchronous failures go to the on-failure destination (the same
                    # encrypted queue), which also records the error; a DeadLetterConfig
                    # would deliver every failed event twice.
                    "CKV_AWS_116": "failures go to the DLQ through the on-failure destination",
                    # Most tools call only public AWS endpoints; the health checker offers
                    # subnets as parameters for private targets.
                    "CKV_AWS_117": "VPC placement is optional and offered where it is needed",
                }
            ),
            FunctionName=self.names.in_region(),
            Description=f"{self.product.title}: {self.product.summary}"[:256],
            Handler="app.lambda_handler",
            Runtime=Ref("LambdaRuntime"),
            Architectures=[Ref("LambdaArchitecture")],
            Code=awslambda.Code(
                S3Bucket=Sub(f"{self.config.catalog['artifact_bucket_prefix']}-${{AWS::Region}}"),
                S3Key=self._package_key_choice(),
            ),
            MemorySize=self.setting("MemorySize"),
            Timeout=self.setting("Timeout"),
            ReservedConcurrentExecutions=self.setting("ReservedConcurrency"),
            TracingConfig=awslambda.TracingConfig(Mode=self.setting("TracingMode")),
            KmsKeyArn=self.key_arn,
            LoggingConfig=awslambda.LoggingConfig(LogGroup=Ref(self.log_group)),
        )

    def _add_role(self, grants: list[Grant]) -> iam.Role:
        statements = _base_statements(self) + [
            grant.statement for grant in grants if grant.when is None
        ]
        return self.add(
            iam.Role(
                "FunctionRole",
                RoleName=self.names.in_account(),
                Description=Sub(f"Runs the {self.product.title} (${{Environment}})"),
                AssumeRolePolicyDocument=make_simple_assume_policy("lambda.amazonaws.com"),
                PermissionsBoundary=If(
                    "HasPermissionsBoundary", Ref("PermissionsBoundaryArn"), Ref(AWS_NO_VALUE)
                ),
                Policies=[
                    iam.Policy(
                        PolicyName="least-privilege",
                        PolicyDocument=PolicyDocument(Version=POLICY_VERSION, Statement=statements),
                    ),
                    If("TracingActive", _tracing_policy(), Ref(AWS_NO_VALUE)),
                    *_conditional_policies(grants),
                ],
            )
        )

    def _add_function(self, role: iam.Role) -> None:
        variables = {
            "ENVIRONMENT": Ref(ENVIRONMENT_PARAMETER),
            "ALERT_TOPIC_ARN": self.alert_topic,
            "POWERTOOLS_SERVICE_NAME": self.product.handler,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **self.environment_variables,
        }
        self.function.Role = GetAtt(role, "Arn")
        self.function.Environment = awslambda.Environment(Variables=variables)
        self.function.VpcConfig = self.vpc_config
        self.add(self.function)

    def _add_invoke_config(self) -> None:
        self.add(
            awslambda.EventInvokeConfig(
                "FunctionInvokeConfig",
                FunctionName=Ref(self.function),
                Qualifier="$LATEST",
                MaximumRetryAttempts=ASYNC_RETRY_ATTEMPTS,
                MaximumEventAgeInSeconds=ASYNC_MAX_EVENT_AGE_SECONDS,
                DestinationConfig=awslambda.DestinationConfig(
                    OnFailure=awslambda.OnFailure(Destination=GetAtt(self.dead_letter_queue, "Arn"))
                ),
            )
        )

    def _watched(self) -> Watched:
        return Watched(
            title=self.product.title,
            scheduled=self.product.scheduled,
            function=self.function,
            dead_letter_queue=self.dead_letter_queue,
            names=self.names,
            notify=self.alert_topic,
            runbook_base_url=self.config.runbook_base_url,
        )

    def _add_alarms(self) -> list[cloudwatch.Alarm]:
        watched = self._watched()
        specs = standard_alarms(watched) + self.extra_alarms
        text = LaunchText(self._dashboard_names())
        self.dashboard_widgets = [
            *standard_widgets(
                text(Ref(self.function)),
                text(GetAtt(self.dead_letter_queue, "QueueName")),
                self.product.handler,
            ),
            *self.metric_widgets,
            *(alarm_widget(watched, spec, text) for spec in specs),
        ]
        return [self.add(build_alarm(watched, spec)) for spec in specs]

    def _dashboard_names(self) -> dict[tuple[str, str], str]:
        """What a Ref or GetAtt in an alarm's dimensions names, as the dashboard writes it."""
        return {
            (self.function.title, "Ref"): self.names.base(),
            (self.dead_letter_queue.title, "QueueName"): self.names.base() + "-dlq",
        }

    def _add_dashboard(self) -> None:
        body, variables = dashboard_body(self.dashboard_widgets)
        self.add(
            cloudwatch.Dashboard(
                "Dashboard",
                DashboardName=self.names.in_region(DASHBOARD_SUFFIX),
                DashboardBody=Sub(body, **variables),
            )
        )

    def _add_outputs(self, role: iam.Role, alarms: list[cloudwatch.Alarm]) -> None:
        self.output("FunctionName", Ref(self.function), "Name of the tool's Lambda function")
        self.output("FunctionArn", self.function_arn, "ARN of the tool's Lambda function")
        self.output("FunctionRoleArn", GetAtt(role, "Arn"), "ARN of the function's role")
        self.output("LogGroupName", Ref(self.log_group), "The function's log group")
        self.output("AlertTopicArn", self.alert_topic, "Where alarms and alerts are sent")
        self.output(
            "DeadLetterQueueUrl", Ref(self.dead_letter_queue), "Failed invocations land here"
        )
        self.output(
            "DashboardUrl",
            sub(
                "https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region="
                f"${{AWS::Region}}#dashboards:name={self.names.base()}{DASHBOARD_SUFFIX}"
            ),
            "The tool's CloudWatch dashboard",
        )
        self.output(
            "AlarmNames",
            Join(",", [Ref(alarm) for alarm in alarms]),
            "The tool's CloudWatch alarms, comma-separated",
        )


def checkov_skips(reasons: dict[str, str]) -> dict[str, Any]:
    """Resource metadata that skips checkov checks, each with the reason next to it."""
    return {"checkov": {"skip": [{"id": check, "comment": why} for check, why in reasons.items()]}}


def environment_mapping_entry(settings: dict[str, Any]) -> dict[str, Any]:
    """One environment's row of the EnvironmentSettings mapping, from its catalog settings."""
    alarms = settings["alarms"]
    timeout_ms = settings["timeout_seconds"] * 1000
    return {
        "MemorySize": settings["memory_mb"],
        "Timeout": settings["timeout_seconds"],
        "TimeoutMs": timeout_ms,
        "LogRetentionInDays": settings["log_retention_days"],
        "ReservedConcurrency": settings["reserved_concurrency"],
        "TracingMode": settings["tracing"],
        "AlarmPeriod": alarms["period_seconds"],
        "AlarmEvaluationPeriods": alarms["evaluation_periods"],
        "ErrorsThreshold": alarms["errors_threshold"],
        "ThrottlesThreshold": alarms["throttles_threshold"],
        "DurationThresholdMs": int(timeout_ms * alarms["duration_ratio"]),
        "DlqDepthThreshold": alarms["dlq_depth_threshold"],
    }


def _conditional_policies(grants: list[Grant]) -> list[If]:
    by_condition: dict[str, list[Statement]] = {}
    for grant in grants:
        if grant.when is not None:
            by_condition.setdefault(grant.when, []).append(grant.statement)
    return [
        If(
            condition,
            iam.Policy(
                PolicyName=f"when-{condition}",
                PolicyDocument=PolicyDocument(Version=POLICY_VERSION, Statement=statements),
            ),
            Ref(AWS_NO_VALUE),
        )
        for condition, statements in by_condition.items()
    ]


def _base_statements(builder: ProductBuilder) -> list[Statement]:
    return [
        allow(
            [logs_actions.CreateLogStream, logs_actions.PutLogEvents],
            [GetAtt(builder.log_group, "Arn")],
            sid="WriteOwnLogs",
        ),
        allow(
            [sqs_actions.SendMessage], [GetAtt(builder.dead_letter_queue, "Arn")], sid="DeadLetters"
        ),
        allow(
            [kms_actions.Decrypt, kms_actions.GenerateDataKey],
            [builder.key_arn],
            sid="UseOwnKey",
        ),
        allow([sns_actions.Publish], [builder.alert_topic], sid="PublishAlerts"),
    ]


def _tracing_policy() -> iam.Policy:
    return iam.Policy(
        PolicyName="xray-tracing",
        PolicyDocument=PolicyDocument(
            Version=POLICY_VERSION,
            Statement=[
                # X-Ray's write actions do not support resource-level permissions.
                allow([xray_actions.PutTraceSegments, xray_actions.PutTelemetryRecords], ["*"]),
            ],
        ),
    )


def _key_policy(own_log_group_arn: Sub) -> PolicyDocument:
    return PolicyDocument(
        Version=POLICY_VERSION,
        Statement=[
            account_administers_key(),
            logs_use_key(
                "CloudWatchLogsEncryptsOwnLogGroup",
                StringEquals("kms:EncryptionContext:aws:logs:arn", own_log_group_arn),
            ),
            Statement(
                # Without this, alarm notifications to the encrypted topic are silently dropped.
                Sid="CloudWatchAlarmsPublishToEncryptedTopic",
                Effect=Allow,
                Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                Action=[kms_actions.Decrypt, kms_actions.GenerateDataKey],
                Resource=["*"],
                Condition=Condition(StringEquals("aws:SourceAccount", Ref(AWS_ACCOUNT_ID))),
            ),
        ],
    )


def ssm_parameter_arn(name_parameter: str) -> Sub:
    """The ARN of the SSM parameter whose name (starting with /) the launch parameter holds."""
    return Sub(
        "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
        f"${{{name_parameter}}}"
    )


def constraint_words(properties: Mapping[str, Any]) -> str | None:
    """The plain-words ConstraintDescription a parameter's own constraints imply, if any."""
    if "AllowedValues" in properties:
        return f"Choose one of: {', '.join(str(v) for v in properties['AllowedValues'])}."
    if "MinValue" in properties and "MaxValue" in properties:
        return f"A number from {properties['MinValue']} to {properties['MaxValue']}."
    if "AllowedPattern" in properties:
        return _PATTERN_WORDS.get(str(properties["AllowedPattern"]))
    if "MaxLength" in properties:
        return f"At most {properties['MaxLength']} characters."
    return None
