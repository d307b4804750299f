"""The resource names a product template gives one launch: a small evaluator of the intrinsic
functions names are made of (Ref, Fn::Sub, Fn::If, Fn::Join, Fn::FindInMap, conditions).

A value that depends on another resource (a Ref to it, Fn::GetAtt) evaluates to None: names
never do.
"""

from __future__ import annotations

import re
from typing import Any

# The properties that name a resource, by type, and AWS's limit on each (API references).
NAME_LIMITS = {
    ("AWS::IAM::Role", "RoleName"): 64,
    ("AWS::Lambda::Function", "FunctionName"): 64,
    ("AWS::SQS::Queue", "QueueName"): 80,
    ("AWS::CloudWatch::Alarm", "AlarmName"): 255,
    ("AWS::CloudWatch::Dashboard", "DashboardName"): 255,
    ("AWS::DynamoDB::Table", "TableName"): 255,
    ("AWS::KMS::Alias", "AliasName"): 256,
    ("AWS::SNS::Topic", "TopicName"): 256,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
}
_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class _Launch:
    def __init__(self, template: dict[str, Any], parameters: dict[str, str]) -> None:
        self.template = template
        declared = template.get("Parameters", {})
        self.parameters = {k: str(v.get("Default", "")) for k, v in declared.items()}
        self.parameters.update(parameters)

    def value(self, expression: Any) -> Any:
        if not isinstance(expression, dict):
            return expression
        [(function, argument)] = expression.items()
        return getattr(self, "_" + function.replace("Fn::", "").lower())(argument)

    def condition(self, name: str) -> bool:
        return bool(self._condition(self.template["Conditions"][name]))

    def _condition(self, expression: Any) -> Any:
        if isinstance(expression, dict) and "Condition" in expression:
            return self.condition(expression["Condition"])
        if isinstance(expression, dict) and "Fn::Equals" in expression:
            left, right = (self.value(v) for v in expression["Fn::Equals"])
            return str(left) == str(right)
        if isinstance(expression, dict) and "Fn::Not" in expression:
            return not self._condition(expression["Fn::Not"][0])
        if isinstance(expression, dict) and "Fn::And" in expression:
            return all(self._condition(c) for c in expression["Fn::And"])
        if isinstance(expression, dict) and "Fn::Or" in expression:
            return any(self._condition(c) for c in expression["Fn::Or"])
        return self.value(expression)

    def _ref(self, name: str) -> str | None:
        return self.parameters.get(name)

    def _getatt(self, argument: Any) -> None:
        return None

    def _if(self, argument: list[Any]) -> Any:
        condition, when_true, when_false = argument
        return self.value(when_true if self.condition(condition) else when_false)

    def _join(self, argument: list[Any]) -> str | None:
        separator, parts = argument
        values = [self.value(part) for part in parts]
        return None if None in values else separator.join(str(v) for v in values)

    def _findinmap(self, argument: list[Any]) -> Any:
        mapping, key, field = (self.value(a) for a in argument)
        return self.template["Mappings"][mapping][key][field]

    def _sub(self, argument: Any) -> str | None:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {**self.parameters, **{k: self.value(v) for k, v in variables.items()}}
        names = _VARIABLE.findall(text)
        if any(values.get(name) is None for name in names):
            return None
        return _VARIABLE.sub(lambda match: str(values[match.group(1)]), text)


def resource_names(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    """Every name NAME_LIMITS lists, by "<logical id>.<property>", for one launch; PARAMETERS
    holds the launch parameters and the pseudo parameters (AWS::Region, ...)."""
    launch = _Launch(template, parameters)
    names = {}
    for logical_id, resource in template["Resources"].items():
        for (kind, prop), _ in NAME_LIMITS.items():
            if resource["Type"] == kind and prop in resource.get("Properties", {}):
                name = launch.value(resource["Properties"][prop])
                if name is not None:
                    names[f"{logical_id}.{prop}"] = str(name)
    return names


def name_limit(template: dict[str, Any], key: str) -> int:
    logical_id, prop = key.split(".")
    return NAME_LIMITS[(template["Resources"][logical_id]["Type"], prop)]
