"""Every product's CloudWatch dashboard, declared once, used by the template and by a page.

Interface (all pure: no AWS calls, no environment reads)::

    dashboard_widgets(product, config) -> list[Widget]
        The product's widgets, in dashboard order, with *launch text* (see products/widgets.py):
        names and numbers still holding ${Environment}, ${AWS::Region}, ${AWS::AccountId},
        ${AWS::Partition} and EnvironmentSettings placeholders (${TimeoutMs}, ...).
        Derived from the same specs the template's alarms come from (standard_alarms plus the
        tool's extra alarms) and from the metrics each tool declares its handler emits
        (builder.metric_widgets), so a new alarm or metric is on the dashboard by construction.

    launch_values(product, config, environment, region, account_id, *, instance=None)
        The concrete value of every placeholder for one launched instance. ENVIRONMENT is the
        stack's Environment parameter; REGION and ACCOUNT_ID are in the stack's ARN
        (arn:aws:cloudformation:REGION:ACCOUNT_ID:stack/...).

    resolve(widgets, values) -> list[Widget]        (products.widgets)
        The widgets with concrete names, periods and thresholds: what GetMetricData and
        DescribeAlarms need (titles and labels never hold placeholders).

    dashboard_name(product, config, environment, instance=None) -> str
        The launched dashboard's name; the stack output DashboardUrl is its console address.

    dashboard_body(widgets) -> (str, dict[str, Any])     (products.dashboard_body)
        The DashboardBody JSON as an Fn::Sub string plus its variable map, as the template uses
        it; concrete_body(widgets, values) is the body CloudWatch stores for one launch.

The types (products/widgets.py): ``Widget(title, kind "metric"|"alarm", metrics, expressions,
thresholds, alarm_name, alarm_arn, alarm_logical_id)``; ``Metric(namespace, name,
dimensions ((name, value), ...), stat, label, period, split_by, metric_id, visible)``, where
split_by names dimensions with one series per value (Target, Rule, Channel), drawn with a SEARCH
expression in CloudWatch and found with ListMetrics by a page; ``Expression(expression_id,
expression, label)`` over metric ids; ``Threshold(label, value)`` (horizontal lines: alarm
thresholds, the timeout, the reserved concurrency).
"""

from __future__ import annotations

from catalog.config import CatalogConfig
from products.builder import ProductBuilder, ProductDefinition, environment_mapping_entry
from products.dashboard_body import DASHBOARD_SUFFIX, concrete_body, dashboard_body
from products.environment import INSTANCE_VARIABLE, ResourceNames, instance_text
from products.widgets import Widget, resolve

# Regions outside the commercial partition, by the prefix of their names.
_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))

__all__ = [
    "concrete_body",
    "dashboard_body",
    "dashboard_name",
    "dashboard_widgets",
    "launch_values",
    "resolve",
]


def dashboard_widgets(product: ProductDefinition, config: CatalogConfig) -> list[Widget]:
    """PRODUCT's widgets in launch text, from the same build as its template."""
    builder = ProductBuilder(product, config, package_key="dashboard-only")
    builder.build()
    return list(builder.dashboard_widgets)


def launch_values(
    product: ProductDefinition,
    config: CatalogConfig,
    environment: str,
    region: str,
    account_id: str,
    *,
    instance: str | None = None,
) -> dict[str, str]:
    """Every placeholder's value for PRODUCT launched for ENVIRONMENT in REGION and ACCOUNT_ID
    as INSTANCE (None: the default instance); the settings are those catalog.yaml gives the
    environment now."""
    settings = environment_mapping_entry(config.settings_for(product.name, environment))
    partition = next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")
    return {
        **{key: str(value) for key, value in settings.items()},
        "Environment": environment,
        INSTANCE_VARIABLE: instance_text(instance),
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": partition,
    }


def dashboard_name(
    product: ProductDefinition,
    config: CatalogConfig,
    environment: str,
    instance: str | None = None,
) -> str:
    """The name the template gives the dashboard of PRODUCT launched for ENVIRONMENT as
    INSTANCE (None: the default instance)."""
    names = ResourceNames(config.catalog["resource_prefix"], product.name)
    return names.base(environment, instance_text(instance)) + DASHBOARD_SUFFIX
