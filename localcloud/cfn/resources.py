"""Resource models for the CloudFormation types moto's CloudFormation skips.

Each model creates the real thing in moto's service backend (an alarm in CloudWatch, a filter in
CloudWatch Logs, ...), so the normal Describe/Get APIs show it afterwards. Defining a subclass of
CloudFormationModel is what registers a type with moto's CloudFormation.
"""

import json
import secrets
import string
from typing import Any

from moto.core.common_models import CloudFormationModel

from .errors import ResourcePropertyError

Props = dict[str, Any]
_SUFFIX_ALPHABET = string.ascii_uppercase + string.digits


def _properties(cloudformation_json: dict[str, Any]) -> Props:
    return dict(cloudformation_json.get("Properties") or {})


def _required(props: Props, name: str, resource_type: str) -> Any:
    value = props.get(name)
    if value is None or value == "":
        raise ResourcePropertyError(f"{resource_type}: property {name} is required")
    return value


def _policy_text(document: Any) -> str:
    return document if isinstance(document, str) else json.dumps(document)


def _backend(backends: Any, account_id: str, region_name: str) -> Any:
    """moto's typed backend, as Any: CloudFormation hands us untyped property values."""
    return backends[account_id][region_name]


def _is_not_found(error: Exception) -> bool:
    name = type(error).__name__
    code = str(getattr(error, "error_type", "") or getattr(error, "code", ""))
    return any(marker in f"{name} {code}" for marker in ("NotFound", "DoesNotExist", "NoSuch"))


def _random_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(12))


class LocalResource:
    """Shared plumbing: the physical id, attributes, replace-on-update and delete.

    Concrete models also subclass CloudFormationModel *directly*: moto finds types through
    CloudFormationModel.__subclasses__(), which lists direct subclasses only.
    """

    attributes: tuple[str, ...] = ()
    arn = ""

    def __init__(self, physical_id: str, account_id: str, region_name: str, props: Props) -> None:
        self._physical_id = physical_id
        self.account_id = account_id
        self.region_name = region_name
        self.props = props

    @property
    def physical_resource_id(self) -> str:
        return self._physical_id

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.attributes

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attribute(attribute_name)

    def attribute(self, attribute_name: str) -> Any:
        return self.physical_resource_id

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        """Remove the real resource (called by moto on stack delete and replacement)."""
        try:
            self.remove(account_id, region_name)
        except Exception as error:
            # A sub-resource whose parent (function, log group, topic) is already gone is gone
            # too; CloudFormation treats that as deleted. Anything else fails the deletion.
            if not _is_not_found(error):
                raise

    def remove(self, account_id: str, region_name: str) -> None:
        """Delete the real resource from its service backend."""

    @staticmethod
    def cloudformation_name_type() -> str:
        """No name property: CloudFormation makes up the physical id (named types override)."""
        return ""

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> "LocalResource":
        return cls.create(resource_name, _properties(cloudformation_json), account_id, region_name)

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "LocalResource":
        """Create the real resource in its service backend; each model defines it."""
        raise NotImplementedError

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: "LocalResource",
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> "LocalResource":
        original_resource.delete(account_id, region_name)
        return cls.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        """Deletion goes through the instance's delete(); nothing to do by name alone."""


# ---- CloudWatch ---------------------------------------------------------------------------
def _metric_queries(metrics: list[dict[str, Any]]) -> list[Any]:
    from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat

    queries = []
    for metric in metrics:
        stat = metric.get("MetricStat")
        metric_stat = None
        if stat:
            inner = stat.get("Metric", {})
            dimensions = [
                Dimension(d.get("Name"), d.get("Value")) for d in inner.get("Dimensions", [])
            ]
            metric_stat = MetricStat(
                metric=Metric(inner.get("MetricName"), inner.get("Namespace"), dimensions),
                period=stat.get("Period"),
                stat=stat.get("Stat"),
                unit=stat.get("Unit"),
            )
        query_class: Any = MetricDataQuery
        queries.append(
            query_class(
                query_id=metric.get("Id"),
                label=metric.get("Label"),
                period=metric.get("Period"),
                return_data=metric.get("ReturnData"),
                expression=metric.get("Expression"),
                metric_stat=metric_stat,
            )
        )
    return queries


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _alarm_arguments(name: str, props: Props, kind: str) -> dict[str, Any]:
    """put_metric_alarm's arguments from the resource properties (strings coerced to numbers)."""
    metrics = props.get("Metrics")
    if not metrics and not props.get("MetricName"):
        raise ResourcePropertyError(f"{kind} {name}: MetricName or Metrics is required")
    threshold = props.get("Threshold")
    return {
        "name": name,
        "namespace": props.get("Namespace"),
        "metric_name": props.get("MetricName"),
        "metric_data_queries": _metric_queries(metrics) if metrics else None,
        "comparison_operator": _required(props, "ComparisonOperator", kind),
        "evaluation_periods": int(_required(props, "EvaluationPeriods", kind)),
        "datapoints_to_alarm": _optional_int(props.get("DatapointsToAlarm")),
        "period": _optional_int(props.get("Period")),
        "threshold": None if threshold is None else float(threshold),
        "statistic": props.get("Statistic"),
        "extended_statistic": props.get("ExtendedStatistic"),
        "description": props.get("AlarmDescription"),
        "dimensions": [
            {"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])
        ],
        "alarm_actions": [a for a in props.get("AlarmActions", []) if a],
        "ok_actions": [a for a in props.get("OKActions", []) if a],
        "insufficient_data_actions": [a for a in props.get("InsufficientDataActions", []) if a],
        "unit": props.get("Unit"),
        "actions_enabled": _as_bool(props.get("ActionsEnabled", True)),
        "treat_missing_data": props.get("TreatMissingData"),
        "evaluate_low_sample_count_percentile": props.get("EvaluateLowSampleCountPercentile"),
        "threshold_metric_id": props.get("ThresholdMetricId"),
        "tags": props.get("Tags"),
    }


class CloudWatchAlarm(LocalResource, CloudFormationModel):
    attributes = ("Arn",)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "CloudWatchAlarm":
        from moto.cloudwatch.models import cloudwatch_backends

        arguments = _alarm_arguments(resource_name, props, cls.cloudformation_type())
        alarm = _backend(cloudwatch_backends, account_id, region_name).put_metric_alarm(**arguments)
        # AWS starts every new alarm in INSUFFICIENT_DATA (moto says OK) until it has data.
        alarm.state_value = "INSUFFICIENT_DATA"
        resource = cls(resource_name, account_id, region_name, props)
        resource.arn = alarm.alarm_arn
        return resource

    def attribute(self, attribute_name: str) -> Any:
        return self.arn

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.cloudwatch.models import cloudwatch_backends

        _backend(cloudwatch_backends, account_id, region_name).delete_alarms(
            [self.physical_resource_id]
        )


def _as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


# ---- CloudWatch Logs ----------------------------------------------------------------------
class LogsSubscriptionFilter(LocalResource, CloudFormationModel):
    @staticmethod
    def cloudformation_name_type() -> str:
        return "FilterName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Logs::SubscriptionFilter"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "LogsSubscriptionFilter":
        from moto.logs.models import logs_backends

        kind = cls.cloudformation_type()
        _backend(logs_backends, account_id, region_name).put_subscription_filter(
            log_group_name=_required(props, "LogGroupName", kind),
            filter_name=resource_name,
            filter_pattern=props.get("FilterPattern", ""),
            destination_arn=_required(props, "DestinationArn", kind),
            role_arn=props.get("RoleArn"),
        )
        return cls(resource_name, account_id, region_name, props)

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.logs.models import logs_backends

        _backend(logs_backends, account_id, region_name).delete_subscription_filter(
            self.props["LogGroupName"], self.physical_resource_id
        )


# ---- Lambda -------------------------------------------------------------------------------
class LambdaEventInvokeConfig(LocalResource, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::EventInvokeConfig"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "LambdaEventInvokeConfig":
        from moto.awslambda.models import lambda_backends

        kind = cls.cloudformation_type()
        function_name = _required(props, "FunctionName", kind)
        _required(props, "Qualifier", kind)
        config: Props = {}
        for key in ("MaximumRetryAttempts", "MaximumEventAgeInSeconds"):
            if props.get(key) is not None:
                config[key] = int(props[key])
        if props.get("DestinationConfig"):
            config["DestinationConfig"] = props["DestinationConfig"]
        _backend(lambda_backends, account_id, region_name).put_function_event_invoke_config(
            function_name, config
        )
        return cls(_random_id("eic-"), account_id, region_name, props)

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.awslambda.models import lambda_backends

        _backend(lambda_backends, account_id, region_name).delete_function_event_invoke_config(
            self.props["FunctionName"]
        )


# ---- SQS / SNS / S3 policies --------------------------------------------------------------
def _queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


class SqsQueuePolicy(LocalResource, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "SqsQueuePolicy":
        from moto.sqs.models import sqs_backends

        kind = cls.cloudformation_type()
        policy = _policy_text(_required(props, "PolicyDocument", kind))
        backend = _backend(sqs_backends, account_id, region_name)
        for queue_url in _required(props, "Queues", kind):
            backend.set_queue_attributes(_queue_name(queue_url), {"Policy": policy})
        return cls(_random_id("qp-"), account_id, region_name, props)

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.sqs.models import sqs_backends

        backend = _backend(sqs_backends, account_id, region_name)
        for queue_url in self.props["Queues"]:
            if _queue_name(queue_url) in backend.queues:
                backend.set_queue_attributes(_queue_name(queue_url), {"Policy": ""})


class SnsTopicPolicy(LocalResource, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "SnsTopicPolicy":
        from moto.sns.models import sns_backends

        kind = cls.cloudformation_type()
        policy = _policy_text(_required(props, "PolicyDocument", kind))
        backend = _backend(sns_backends, account_id, region_name)
        for topic_arn in _required(props, "Topics", kind):
            backend.set_topic_attribute(topic_arn, "policy", policy)
        return cls(_random_id("tp-"), account_id, region_name, props)

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.sns.models import sns_backends

        backend = _backend(sns_backends, account_id, region_name)
        for topic_arn in self.props["Topics"]:
            if topic_arn in backend.topics:
                topic = backend.topics[topic_arn]
                topic._policy_json = topic._create_default_topic_policy(
                    region_name, account_id, topic.name
                )


class SnsSubscription(LocalResource, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "SnsSubscription":
        from moto.sns.models import sns_backends

        kind = cls.cloudformation_type()
        backend = _backend(sns_backends, account_id, region_name)
        subscription = backend.subscribe(
            _required(props, "TopicArn", kind),
            _required(props, "Endpoint", kind),
            _required(props, "Protocol", kind),
        )
        for key in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy"):
            if props.get(key) is not None:
                backend.set_subscription_attributes(subscription.arn, key, _policy_text(props[key]))
        if props.get("RawMessageDelivery") is not None:
            raw = str(_as_bool(props["RawMessageDelivery"])).lower()
            backend.set_subscription_attributes(subscription.arn, "RawMessageDelivery", raw)
        return cls(subscription.arn, account_id, region_name, props)

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.sns.models import sns_backends

        _backend(sns_backends, account_id, region_name).unsubscribe(self.physical_resource_id)


class S3BucketPolicy(LocalResource, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "S3BucketPolicy":
        from moto.s3.models import s3_backends

        kind = cls.cloudformation_type()
        bucket = _required(props, "Bucket", kind)
        policy = _policy_text(_required(props, "PolicyDocument", kind))
        s3_backends[account_id]["aws"].put_bucket_policy(bucket, policy.encode("utf-8"))
        return cls(bucket, account_id, region_name, props)

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.s3.models import s3_backends

        backend = s3_backends[account_id]["aws"]
        if self.physical_resource_id in backend.buckets:
            backend.delete_bucket_policy(self.physical_resource_id)


# ---- EventBridge Scheduler ----------------------------------------------------------------
class SchedulerSchedule(LocalResource, CloudFormationModel):
    attributes = ("Arn",)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Scheduler::Schedule"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "SchedulerSchedule":
        from moto.scheduler.models import scheduler_backends

        kind = cls.cloudformation_type()
        schedule = _backend(scheduler_backends, account_id, region_name).create_schedule(
            description=props.get("Description"),
            end_date=props.get("EndDate"),
            flexible_time_window=_required(props, "FlexibleTimeWindow", kind),
            group_name=props.get("GroupName"),
            kms_key_arn=props.get("KmsKeyArn"),
            name=resource_name,
            schedule_expression=_required(props, "ScheduleExpression", kind),
            schedule_expression_timezone=props.get("ScheduleExpressionTimezone"),
            start_date=props.get("StartDate"),
            state=props.get("State", "ENABLED"),
            target=_required(props, "Target", kind),
            action_after_completion=None,
        )
        resource = cls(resource_name, account_id, region_name, props)
        resource.arn = schedule.arn
        return resource

    def attribute(self, attribute_name: str) -> Any:
        return self.arn

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.scheduler.models import scheduler_backends

        _backend(scheduler_backends, account_id, region_name).delete_schedule(
            self.props.get("GroupName"), self.physical_resource_id
        )


# ---- CodeBuild and CodePipeline (the release pipeline stack) -------------------------------
def _lower_first(key: str) -> str:
    return key[:1].lower() + key[1:]


def _api_shape(value: Any) -> Any:
    """CloudFormation's PascalCase properties as the APIs' camelCase request shapes."""
    if isinstance(value, dict):
        return {_lower_first(key): _api_shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_api_shape(item) for item in value]
    return value


def _action_shape(action: Props) -> dict[str, Any]:
    # An action's Configuration keys are the provider's own (ConnectionArn, ProjectName): kept.
    configuration = action.get("Configuration") or {}
    shaped = _api_shape({key: item for key, item in action.items() if key != "Configuration"})
    shaped["configuration"] = {key: str(item) for key, item in configuration.items()}
    return dict(shaped)


class CodeBuildProject(LocalResource, CloudFormationModel):
    """A project in moto's CodeBuild backend (StartBuild there completes without running)."""

    attributes = ("Arn",)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodeBuild::Project"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "CodeBuildProject":
        from moto.codebuild.models import codebuild_backends

        kind = cls.cloudformation_type()
        _backend(codebuild_backends, account_id, region_name).create_project(
            project_name=resource_name,
            description=props.get("Description"),
            project_source=_api_shape(_required(props, "Source", kind)),
            artifacts=_api_shape(_required(props, "Artifacts", kind)),
            environment=_api_shape(_required(props, "Environment", kind)),
            service_role=_required(props, "ServiceRole", kind),
            tags=None,
            cache=None,
            timeout=_optional_int(props.get("TimeoutInMinutes")),
            queued_timeout=None,
            source_version=None,
            logs_config=_api_shape(props.get("LogsConfig")),
            vpc_config=None,
        )
        resource = cls(resource_name, account_id, region_name, props)
        resource.arn = f"arn:aws:codebuild:{region_name}:{account_id}:project/{resource_name}"
        return resource

    def attribute(self, attribute_name: str) -> Any:
        return self.arn

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.codebuild.models import codebuild_backends

        _backend(codebuild_backends, account_id, region_name).delete_project(
            self.physical_resource_id
        )


class CodePipelinePipeline(LocalResource, CloudFormationModel):
    """A pipeline in moto's CodePipeline backend: GetPipeline shows its stages and trigger."""

    attributes = ("Version",)

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CodePipeline::Pipeline"

    @classmethod
    def create(
        cls, resource_name: str, props: Props, account_id: str, region_name: str
    ) -> "CodePipelinePipeline":
        from moto.codepipeline.models import CodePipeline, codepipeline_backends

        kind = cls.cloudformation_type()
        stages = [
            {"name": stage["Name"], "actions": [_action_shape(a) for a in stage["Actions"]]}
            for stage in _required(props, "Stages", kind)
        ]
        declaration = {
            "name": resource_name,
            "roleArn": _required(props, "RoleArn", kind),
            "artifactStore": _api_shape(_required(props, "ArtifactStore", kind)),
            "stages": stages,
            "pipelineType": props.get("PipelineType", "V1"),
            "executionMode": props.get("ExecutionMode", "SUPERSEDED"),
            "triggers": _api_shape(props.get("Triggers", [])),
        }
        # CodePipeline's own check that the role trusts it is the IAM emulation's business; the
        # backend's version of it only accepts a single-string Service principal.
        backend = _backend(codepipeline_backends, account_id, region_name)
        backend.pipelines[resource_name] = CodePipeline(account_id, region_name, declaration)
        return cls(resource_name, account_id, region_name, props)

    def attribute(self, attribute_name: str) -> Any:
        return 1

    def remove(self, account_id: str, region_name: str) -> None:
        from moto.codepipeline.models import codepipeline_backends

        _backend(codepipeline_backends, account_id, region_name).delete_pipeline(
            self.physical_resource_id
        )


LOCAL_RESOURCE_TYPES: tuple[type[LocalResource], ...] = (
    CloudWatchAlarm,
    LogsSubscriptionFilter,
    LambdaEventInvokeConfig,
    SqsQueuePolicy,
    SnsTopicPolicy,
    SnsSubscription,
    S3BucketPolicy,
    SchedulerSchedule,
    CodeBuildProject,
    CodePipelinePipeline,
)
