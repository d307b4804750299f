"""The ResourceChanges of a provisioned product plan, worked out as a CloudFormation change set.

Both sides (the stack as it runs, and the new template with the new parameter values) are
resolved the same way: parameter and pseudo-parameter Refs replaced by their values, Conditions
and Fn::If decided, Fn::FindInMap / Fn::Join / Fn::Sub filled in where their inputs are known,
references to other resources left as they are. A resource whose condition is false is absent.
Then, per logical id: only in the new template ADD, only in the old REMOVE, resolved differently
MODIFY with one detail per changed property and what caused it (a parameter, or the template).
A resource that is replaced gets a new physical id, so whatever refers to it changes too: those
details are DYNAMIC (known only when the update runs), as CloudFormation reports them.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Properties whose update makes CloudFormation replace the resource ("Update requires:
# Replacement" in each type's reference), for the types the catalog's products use.
# Any other type's property changes are CONDITIONALLY (we cannot say).
REPLACING_PROPERTIES: dict[str, frozenset[str]] = {
    "AWS::CloudWatch::Alarm": frozenset({"AlarmName"}),
    "AWS::CloudWatch::Dashboard": frozenset({"DashboardName"}),
    "AWS::DynamoDB::Table": frozenset({"TableName", "KeySchema"}),
    "AWS::Events::Rule": frozenset({"Name", "EventBusName"}),
    "AWS::IAM::Role": frozenset({"RoleName", "Path"}),
    "AWS::KMS::Alias": frozenset({"AliasName"}),
    "AWS::KMS::Key": frozenset({"KeySpec", "KeyUsage", "MultiRegion"}),
    "AWS::Lambda::EventInvokeConfig": frozenset({"FunctionName", "Qualifier"}),
    "AWS::Lambda::Function": frozenset({"FunctionName", "PackageType"}),
    "AWS::Lambda::Permission": frozenset(
        {
            "Action",
            "EventSourceToken",
            "FunctionName",
            "FunctionUrlAuthType",
            "Principal",
            "PrincipalOrgID",
            "SourceAccount",
            "SourceArn",
        }
    ),
    "AWS::Logs::LogGroup": frozenset({"LogGroupName"}),
    "AWS::Logs::SubscriptionFilter": frozenset({"FilterName", "LogGroupName"}),
    "AWS::Scheduler::Schedule": frozenset({"Name", "GroupName"}),
    "AWS::SNS::Subscription": frozenset({"Endpoint", "Protocol", "TopicArn"}),
    "AWS::SNS::Topic": frozenset({"TopicName", "FifoTopic"}),
    "AWS::SNS::TopicPolicy": frozenset(),
    "AWS::SQS::Queue": frozenset({"QueueName", "FifoQueue"}),
    "AWS::SQS::QueuePolicy": frozenset(),
}
# Resource attributes other than Properties, and the Scope / Target.Attribute they report as.
_ATTRIBUTES = {
    "Metadata": "METADATA",
    "CreationPolicy": "CREATIONPOLICY",
    "UpdatePolicy": "UPDATEPOLICY",
    "DeletionPolicy": "DELETIONPOLICY",
}
_NO_VALUE = object()


@dataclass(frozen=True)
class StackState:
    """A template and the value of every parameter (given or default) it is resolved with."""

    template: dict[str, Any]
    parameters: dict[str, str]
    account_id: str
    region: str


class _Resolver:
    def __init__(self, state: StackState) -> None:
        self.state = state
        self.template = state.template
        self.parameters = self.template.get("Parameters") or {}
        self.resources = self.template.get("Resources") or {}
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definition = (self.template.get("Conditions") or {}).get(name)
            self._conditions[name] = _truthy(self.resolve(definition))
        return self._conditions[name]

    def present(self, spec: dict[str, Any]) -> bool:
        condition = spec.get("Condition")
        return condition is None or self.condition(str(condition))

    def resolve(self, node: Any) -> Any:
        if isinstance(node, list):
            return [v for v in (self.resolve(item) for item in node) if v is not _NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            name, argument = next(iter(node.items()))
            if name == "Ref":
                return self._ref(str(argument))
            if name in _FUNCTIONS:
                return _FUNCTIONS[name](self, argument)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not _NO_VALUE}

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return _NO_VALUE
        pseudo = {
            "AWS::Region": self.state.region,
            "AWS::AccountId": self.state.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.state.parameters.get(name, "")
        return {"Ref": name}  # a resource (or the stack's own id): the same on both sides


def _fn_if(resolver: _Resolver, argument: Any) -> Any:
    condition, when_true, when_false = argument
    return resolver.resolve(when_true if resolver.condition(str(condition)) else when_false)


def _fn_equals(resolver: _Resolver, argument: Any) -> bool:
    left, right = (resolver.resolve(item) for item in argument)
    return bool(_text(left) == _text(right))


def _fn_and(resolver: _Resolver, argument: Any) -> bool:
    return all(_truthy(resolver.resolve(item)) for item in argument)


def _fn_or(resolver: _Resolver, argument: Any) -> bool:
    return any(_truthy(resolver.resolve(item)) for item in argument)


def _fn_not(resolver: _Resolver, argument: Any) -> bool:
    return not _truthy(resolver.resolve(argument[0]))


def _condition_ref(resolver: _Resolver, argument: Any) -> bool:
    return resolver.condition(str(argument))


def _fn_find_in_map(resolver: _Resolver, argument: Any) -> Any:
    keys = [resolver.resolve(item) for item in argument]
    if not all(isinstance(key, str) for key in keys):
        return {"Fn::FindInMap": keys}
    mapping, first, second = keys
    return (resolver.template.get("Mappings") or {}).get(mapping, {}).get(first, {}).get(second)


def _fn_join(resolver: _Resolver, argument: Any) -> Any:
    separator, items = argument[0], resolver.resolve(argument[1])
    if isinstance(items, list) and all(isinstance(item, str) for item in items):
        return str(separator).join(items)
    return {"Fn::Join": [separator, items]}


def _fn_sub(resolver: _Resolver, argument: Any) -> Any:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    values = {key: resolver.resolve(value) for key, value in (variables or {}).items()}
    for name in set(resolver.parameters) | {"AWS::Region", "AWS::AccountId", "AWS::Partition"}:
        value = values.get(name, resolver.resolve({"Ref": name}))
        if isinstance(value, str):
            text = text.replace("${" + name + "}", value)
    return text if "${" not in text else {"Fn::Sub": [text, values]}


def _fn_select(resolver: _Resolver, argument: Any) -> Any:
    index, items = resolver.resolve(argument[0]), resolver.resolve(argument[1])
    if isinstance(items, list) and str(index).isdigit() and int(index) < len(items):
        return items[int(index)]
    return {"Fn::Select": [index, items]}


_FUNCTIONS = {
    "Fn::If": _fn_if,
    "Fn::Equals": _fn_equals,
    "Fn::And": _fn_and,
    "Fn::Or": _fn_or,
    "Fn::Not": _fn_not,
    "Condition": _condition_ref,
    "Fn::FindInMap": _fn_find_in_map,
    "Fn::Join": _fn_join,
    "Fn::Sub": _fn_sub,
    "Fn::Select": _fn_select,
}


def _text(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value).lower()
    return value if isinstance(value, (list, dict)) else str(value)


def _truthy(value: Any) -> bool:
    return value.lower() == "true" if isinstance(value, str) else bool(value)


def references(node: Any) -> Iterator[tuple[str, str]]:
    """(logical id or parameter name, "Ref" or the GetAtt attribute) of every reference."""
    if isinstance(node, list):
        for item in node:
            yield from references(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref":
                yield str(value), "Ref"
            elif key == "Fn::GetAtt":
                target, _, attribute = (
                    (value[0], "", value[1])
                    if isinstance(value, list)
                    else str(value).partition(".")
                )
                yield str(target), str(attribute)
            elif key == "Fn::Sub":
                text = value if isinstance(value, str) else value[0]
                yield from _sub_references(str(text))
                yield from references(value[1:] if isinstance(value, list) else [])
            else:
                yield from references(value)


def _sub_references(text: str) -> Iterator[tuple[str, str]]:
    for chunk in text.split("${")[1:]:
        name = chunk.split("}", 1)[0]
        if name and not name.startswith("!"):
            target, _, attribute = name.partition(".")
            yield target, attribute or "Ref"


@dataclass
class _Side:
    resolver: _Resolver
    raw: dict[str, Any]  # logical id -> the template's own resource spec (present ones only)
    resolved: dict[str, dict[str, Any]]


def _side(state: StackState) -> _Side:
    resolver = _Resolver(state)
    raw = {
        logical: spec
        for logical, spec in resolver.resources.items()
        if isinstance(spec, dict) and resolver.present(spec)
    }
    return _Side(resolver, raw, {logical: resolver.resolve(spec) for logical, spec in raw.items()})


def resource_changes(
    old: StackState | None, new: StackState, physical_ids: dict[str, str]
) -> list[dict[str, Any]]:
    """The plan's ResourceChanges: OLD is None for a provisioned product not launched yet."""
    after = _side(new)
    before = _side(old) if old is not None else None
    changes: dict[str, dict[str, Any]] = {}
    for logical, spec in after.resolved.items():
        if before is None or logical not in before.resolved:
            changes[logical] = _change("ADD", logical, str(spec.get("Type", "")))
        else:
            details = _static_details(logical, before, after)
            if details:
                changes[logical] = _modify(logical, str(spec.get("Type", "")), details)
    for logical, spec in (before.resolved if before else {}).items():
        if logical not in after.resolved:
            changes[logical] = _change("REMOVE", logical, str(spec.get("Type", "")))
    if before is not None:
        _add_dynamic_details(changes, before, after)
    for logical, change in changes.items():
        if change["Action"] != "ADD" and logical in physical_ids:
            change["PhysicalResourceId"] = physical_ids[logical]
    return list(changes.values())


def _change(action: str, logical: str, resource_type: str) -> dict[str, Any]:
    return {
        "Action": action,
        "LogicalResourceId": logical,
        "ResourceType": resource_type,
        "Scope": [],
        "Details": [],
    }


def _modify(logical: str, resource_type: str, details: list[dict[str, Any]]) -> dict[str, Any]:
    change = _change("MODIFY", logical, resource_type)
    change["Details"] = details
    _summarize(change)
    return change


def _summarize(change: dict[str, Any]) -> None:
    details = change["Details"]
    change["Scope"] = sorted({detail["Target"]["Attribute"] for detail in details})
    recreation = {
        (detail["Evaluation"], detail["Target"]["RequiresRecreation"]) for detail in details
    }
    if ("STATIC", "ALWAYS") in recreation:
        change["Replacement"] = "TRUE"
    elif any(level != "NEVER" for _, level in recreation):
        change["Replacement"] = "CONDITIONAL"
    else:
        change["Replacement"] = "FALSE"


def _static_details(logical: str, before: _Side, after: _Side) -> list[dict[str, Any]]:
    old, new = before.resolved[logical], after.resolved[logical]
    resource_type = str(new.get("Type", ""))
    if old.get("Type") != new.get("Type"):
        return [_detail("PROPERTIES", "Type", "ALWAYS", "STATIC", None)]
    details = []
    old_props, new_props = old.get("Properties") or {}, new.get("Properties") or {}
    raw_props = after.raw[logical].get("Properties") or {}
    for name in sorted(set(old_props) | set(new_props)):
        if old_props.get(name) != new_props.get(name):
            attribute = "TAGS" if name == "Tags" else "PROPERTIES"
            level = "NEVER" if name == "Tags" else _recreation(resource_type, name)
            causes = _causing_parameters(raw_props.get(name), before, after)
            details += [_detail(attribute, name, level, "STATIC", cause) for cause in causes]
    for key, attribute in _ATTRIBUTES.items():
        if old.get(key) != new.get(key):
            details.append(_detail(attribute, None, "NEVER", "STATIC", None))
    return details


def _recreation(resource_type: str, name: str) -> str:
    replacing = REPLACING_PROPERTIES.get(resource_type)
    if replacing is None:
        return "CONDITIONALLY"
    return "ALWAYS" if name in replacing else "NEVER"


def _causing_parameters(raw: Any, before: _Side, after: _Side) -> list[str | None]:
    """The parameters whose new value changed this property; [None] when the template did."""
    changed = {
        name
        for name in after.resolver.parameters
        if before.resolver.state.parameters.get(name) != after.resolver.state.parameters.get(name)
    }
    used = {target for target, _ in references(raw)} | _condition_parameters(raw, after)
    causes: list[str | None] = [*sorted(used & changed)]
    return causes or [None]


def _condition_parameters(raw: Any, side: _Side) -> set[str]:
    names: set[str] = set()
    pending = [str(args[0]) for args in _fn_if_arguments(raw)]
    seen: set[str] = set()
    while pending:
        condition = pending.pop()
        if condition in seen:
            continue
        seen.add(condition)
        definition = (side.resolver.template.get("Conditions") or {}).get(condition)
        names |= {target for target, _ in references(definition)}
        pending += [str(value) for value in _condition_names(definition)]
    return names


def _fn_if_arguments(node: Any) -> Iterator[list[Any]]:
    if isinstance(node, list):
        for item in node:
            yield from _fn_if_arguments(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Fn::If" and isinstance(value, list):
                yield value
            yield from _fn_if_arguments(value)


def _condition_names(node: Any) -> Iterator[Any]:
    if isinstance(node, list):
        for item in node:
            yield from _condition_names(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Condition":
                yield value
            else:
                yield from _condition_names(value)


def _detail(
    attribute: str, name: str | None, level: str, evaluation: str, cause: str | None
) -> dict[str, Any]:
    target: dict[str, str] = {"Attribute": attribute, "RequiresRecreation": level}
    if name is not None:
        target["Name"] = name
    detail: dict[str, Any] = {"Target": target, "Evaluation": evaluation}
    if cause is not None:
        detail["CausingEntity"] = cause
    return detail


def _add_dynamic_details(changes: dict[str, dict[str, Any]], before: _Side, after: _Side) -> None:
    """Whatever refers to a replaced resource sees a new name or ARN: repeat until stable."""
    done: set[str] = set()
    while True:
        replaced = {
            logical
            for logical, change in changes.items()
            if change.get("Replacement") in ("TRUE", "CONDITIONAL") and logical not in done
        }
        if not replaced:
            return
        done |= replaced
        for logical, raw in after.raw.items():
            if logical in before.resolved:
                _dynamic_for(logical, raw, replaced, changes)


def _dynamic_for(
    logical: str, raw: dict[str, Any], replaced: set[str], changes: dict[str, dict[str, Any]]
) -> None:
    resource_type = str(raw.get("Type", ""))
    details = []
    for name, value in sorted((raw.get("Properties") or {}).items()):
        for target, attribute in sorted(set(references(value))):
            if target in replaced:
                cause = target if attribute == "Ref" else f"{target}.{attribute}"
                level = "NEVER" if name == "Tags" else _recreation(resource_type, name)
                scope = "TAGS" if name == "Tags" else "PROPERTIES"
                details.append(_detail(scope, name, level, "DYNAMIC", cause))
    if not details:
        return
    change = changes.setdefault(logical, _change("MODIFY", logical, resource_type))
    change["Details"] += details
    _summarize(change)
