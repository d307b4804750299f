"""Stacks in moto's CloudFormation, created (or failing) the way CloudFormation would."""

import json
import re
from typing import Any

from ..cfn.failures import failure_reason
from .rules import parameter_values, rule_violations


class StackFailure(Exception):
    """The stack could not be created/updated/deleted; reason reads like CloudFormation's."""

    def __init__(self, reason: str, stack_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.stack_id = stack_id


def _parameter_errors(template: dict[str, Any], given: dict[str, str]) -> list[str]:
    declared = template.get("Parameters") or {}
    missing = [
        name for name, spec in declared.items() if name not in given and "Default" not in spec
    ]
    if missing:
        return [f"Parameters: [{', '.join(missing)}] must have values"]
    errors: list[str] = []
    for name, spec in declared.items():
        value = str(given.get(name, spec.get("Default")))
        errors.extend(_value_errors(name, spec, value))
    return errors


def _value_errors(name: str, spec: dict[str, Any], value: str) -> list[str]:
    errors: list[str] = []
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(item) for item in allowed]:
        errors.append(f"Parameter '{name}' must be one of AllowedValues")
    pattern = spec.get("AllowedPattern")
    if pattern and re.fullmatch(pattern, value) is None:
        errors.append(f"Parameter '{name}' must match pattern {pattern}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        errors.append(f"Parameter '{name}' must contain at most {spec['MaxLength']} characters")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        errors.append(f"Parameter '{name}' must contain at least {spec['MinLength']} characters")
    if spec.get("Type") == "Number":
        errors.extend(_number_errors(name, spec, value))
    return errors


def _number_errors(name: str, spec: dict[str, Any], value: str) -> list[str]:
    try:
        number = float(value)
    except ValueError:
        return [f"Parameter '{name}' must be a number"]
    if "MinValue" in spec and number < float(spec["MinValue"]):
        return [f"Parameter '{name}' must be a number not less than {spec['MinValue']}"]
    if "MaxValue" in spec and number > float(spec["MaxValue"]):
        return [f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}"]
    return []


def preflight_errors(template: dict[str, Any], given: dict[str, str]) -> list[str]:
    """What CloudFormation rejects before touching a resource: parameters, Rules, unknown types."""
    errors = _parameter_errors(template, given)
    if errors:
        return errors
    errors.extend(rule_violations(template.get("Rules") or {}, parameter_values(template, given)))
    return errors


class StackRunner:
    """Creates, updates and deletes stacks in moto's CloudFormation of one account/region."""

    def __init__(self, account_id: str, region: str) -> None:
        self.account_id = account_id
        self.region = region

    def _backend(self) -> Any:
        from moto.cloudformation.models import cloudformation_backends

        return cloudformation_backends[self.account_id][self.region]

    def role_exists(self, role_arn: str) -> bool:
        from moto.iam.models import iam_backends

        try:
            iam_backends[self.account_id]["aws"].get_role_by_arn(role_arn)
        except Exception:  # moto raises IAMNotFoundException; any lookup failure means absent
            return False
        return True

    def create(
        self,
        *,
        name: str,
        template: dict[str, Any],
        parameters: dict[str, str],
        tags: dict[str, str],
        role_arn: str | None,
        notification_arns: list[str],
    ) -> Any:
        _preflight(template, parameters)
        try:
            stack = self._backend().create_stack(
                name=name,
                template=json.dumps(template),
                parameters=parameters,
                notification_arns=notification_arns,
                tags=tags,
                role_arn=role_arn,
            )
        except Exception as error:  # moto refused the template itself (e.g. a bad GetAtt)
            raise StackFailure(failure_reason(error)) from error
        _require_status(stack, "CREATE_COMPLETE", stack.stack_id)
        return stack

    def update(
        self,
        stack_id: str,
        template: dict[str, Any],
        parameters: dict[str, str],
        tags: dict[str, str],
        role_arn: str | None,
    ) -> None:
        _preflight(template, parameters, stack_id)
        listed = [
            {"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()
        ]
        try:
            stack = self._backend().update_stack(
                name=stack_id,
                template=json.dumps(template),
                role_arn=role_arn,
                parameters=listed,
                tags=tags,
            )
        except Exception as error:  # moto refused the template itself
            raise StackFailure(failure_reason(error), stack_id) from error
        _require_status(stack, "UPDATE_COMPLETE", stack_id)

    def delete(self, stack_id: str) -> None:
        try:
            self._backend().delete_stack(stack_id)
        except Exception as error:  # a resource that cannot be deleted fails the termination
            raise StackFailure(failure_reason(error), stack_id) from error

    def physical_ids(self, stack_id: str) -> dict[str, str]:
        """Logical id -> physical id of every resource the stack holds now."""
        try:
            stack = self._backend().get_stack(stack_id)
        except Exception:  # moto raises ValidationError for a stack that is gone
            return {}
        return {
            logical: str(resource.physical_resource_id)
            for logical, resource in stack.resource_map._parsed_resources.items()
            if getattr(resource, "physical_resource_id", None)
        }

    def outputs(self, stack_id: str) -> list[dict[str, str]]:
        stack = self._backend().get_stack(stack_id)
        return [
            {
                "OutputKey": output["OutputKey"],
                "OutputValue": str(output["OutputValue"]),
                "Description": output.get("Description") or "",
            }
            for output in stack.outputs or []
        ]


def _preflight(
    template: dict[str, Any], parameters: dict[str, str], stack_id: str | None = None
) -> None:
    """What CloudFormation refuses before it touches a resource (missing or bad parameters)."""
    errors = preflight_errors(template, parameters)
    if errors:
        raise StackFailure("; ".join(errors), stack_id)


def _require_status(stack: Any, wanted: str, stack_id: str | None) -> None:
    # localcloud.cfn turns a failing resource into a rollback status with a reason.
    if stack.status != wanted:
        reason = getattr(stack, "stack_status_reason", None) or stack.status
        raise StackFailure(str(reason), stack_id)
