"""Hypothesis strategies that turn a valid Lambda event into a malformed one, for the fuzz tests.

A mutation picks any node of the event (JSON strings that hold an object, such as an SNS
Message, and the base64-gzip-JSON of a CloudWatch Logs subscription are opened and mutated
inside, then packed again) and deletes it, replaces it with a value of the wrong type, a huge or
deeply nested value or an odd string, or wraps it. Events reach a Lambda handler as parsed JSON,
so every value here is one Python's json module can produce (NaN and Infinity included).

Every handler's fuzz test asserts the same property over these events: the invocation succeeds
or raises BadEventError, which the malformed-events metric counts.
"""

from __future__ import annotations

import base64
import binascii
import copy
import gzip
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from oncall_shared.errors import BadEventError

# Deterministic and short: the whole fuzz run (four handlers) stays well under 20 s.
FUZZ_SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=60,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # the fixtures are shared by every example on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


@dataclass
class Packed:
    """A string in the event that holds JSON: ``encoding`` says how it is packed."""

    value: Any
    encoding: str  # "json" | "base64-gzip-json"

    def pack(self) -> str:
        text = json.dumps(self.value)
        if self.encoding == "json":
            return text
        return base64.b64encode(gzip.compress(text.encode("utf-8"))).decode("ascii")


Path = tuple[Any, ...]

ODD_STRINGS = (
    "",
    " ",
    "漢",
    "é",
    "\x00",
    "\u202e",
    "\n",
    "us east 1",
    "eu&west-1",
    "0001-01-01T00:00:00.000+0100",
    "9999-12-31T23:59:59.999-0100",
    "2019-13-45T99:99:99.000+0000",
    "arn:aws:cloudwatch:eu&west-1:123456789012:alarm:x",
    "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + "x" * 2_000,
    "arn:aws:ecs:us-east-1:123456789012:service/",
    "arn:aws:ecs:us-east-1:123456789012:service/a/b/c",
    "arn::::",
    "1" * 4_301,
    "[" * 100_000,
    "x" * 70_000,
    "null",
    "{}",
    "[]",
    "%ff%fe",
    "a+b%20c",
    "ALARM",
    "OK",
    "AWS/EC2",
    "StatusCheckFailed_Instance",
)


def nested_lists(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def replacement_values() -> st.SearchStrategy[Any]:
    """Wrong types, huge or nested values, odd strings (all producible by json.loads), each
    kind about as likely as the others so that a field's every wrong type is tried early."""
    # Events arrive parsed by the runtime's json.loads, which stops near 1,000 levels deep.
    deep = st.integers(min_value=2, max_value=400).map(nested_lists)
    small_json = st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=6),
        lambda inner: (
            st.lists(inner, min_size=1, max_size=3)
            | st.dictionaries(st.text(max_size=6), inner, min_size=1)
        ),
        max_leaves=5,
    )
    return st.one_of(
        st.sampled_from([None, True, False, [], {}]),
        st.sampled_from([0, -1, 1.5, 10**30, float("nan"), float("inf")]) | st.integers(),
        st.sampled_from(ODD_STRINGS),
        st.text(max_size=12),
        deep,
        small_json,
    )


def unpack(value: Any, key: Any = None) -> Any:
    """The event with its packed strings opened as Packed nodes."""
    if isinstance(value, dict):
        return {k: unpack(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [unpack(item) for item in value]
    if isinstance(value, str):
        return _unpack_string(value, key)
    return value


def _unpack_string(value: str, key: Any) -> Any:
    if key == "data":
        try:
            inner = gzip.decompress(base64.b64decode(value, validate=True))
            return Packed(unpack(json.loads(inner)), "base64-gzip-json")
        except (binascii.Error, OSError, ValueError):
            return value
    if value.startswith("{"):
        try:
            return Packed(unpack(json.loads(value)), "json")
        except ValueError:
            return value
    return value


def pack(value: Any) -> Any:
    if isinstance(value, Packed):
        return Packed(pack(value.value), value.encoding).pack()
    if isinstance(value, dict):
        return {k: pack(v) for k, v in value.items()}
    if isinstance(value, list):
        return [pack(item) for item in value]
    return value


def node_paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every node below the root, depth first."""
    children: list[tuple[Any, Any]] = []
    if isinstance(value, Packed):
        children = [("<packed>", value.value)]
    elif isinstance(value, dict):
        children = list(value.items())
    elif isinstance(value, list):
        children = list(enumerate(value))
    found: list[Path] = []
    for step, child in children:
        path = (*prefix, step)
        found.append(path)
        found.extend(node_paths(child, path))
    return found


def _parent(root: Any, path: Path) -> Any:
    node = root
    for step in path[:-1]:
        node = node.value if step == "<packed>" else node[step]
    return node


def _get(root: Any, path: Path) -> Any:
    parent, step = _parent(root, path), path[-1]
    return parent.value if step == "<packed>" else parent[step]


def _set(root: Any, path: Path, new: Any) -> None:
    parent, step = _parent(root, path), path[-1]
    if step == "<packed>":
        parent.value = new
    else:
        parent[step] = new


def _delete(root: Any, path: Path) -> None:
    parent, step = _parent(root, path), path[-1]
    if step == "<packed>":
        parent.value = None
    else:
        del parent[step]


@st.composite
def _mutate_once(draw: st.DrawFn, root: Any) -> Any:
    paths = node_paths(root)
    if not paths:
        return draw(replacement_values())
    path = draw(st.sampled_from(paths))
    kind = draw(st.sampled_from(["delete", "replace", "replace", "wrap", "stringify", "packed"]))
    original = _get(root, path)
    if kind == "delete":
        _delete(root, path)
    elif kind == "wrap":
        _set(root, path, draw(st.sampled_from([[original], {"value": original}])))
    elif kind == "stringify":
        _set(root, path, json.dumps(pack(original)))
    elif kind == "packed" and isinstance(original, Packed):
        _set(root, path, draw(st.sampled_from(ODD_STRINGS)))  # the whole packed string replaced
    else:
        _set(root, path, draw(replacement_values()))
    return root


@st.composite
def mutated(draw: st.DrawFn, valid: Any) -> Any:
    """``valid`` with one to three mutations; the input is never changed."""
    root = unpack(copy.deepcopy(valid))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        root = draw(_mutate_once(root))
    return pack(root)


@st.composite
def swept(draw: st.DrawFn, valid: Any) -> Any:
    """One mutation of the exhaustive sweep (every_single_mutation), drawn at random."""
    root = unpack(copy.deepcopy(valid))
    paths = node_paths(root)
    if not paths:  # an empty object: replaced as a whole
        return draw(st.sampled_from(SWEEP_VALUES))
    path = draw(st.sampled_from(paths))
    original = _get(root, path)
    values = [*SWEEP_VALUES, [original], {"value": original}]
    if isinstance(original, Packed):
        values.extend(PACKED_SWEEP)
    if draw(st.integers(min_value=0, max_value=len(values))) == len(values):
        return _changed(root, path, None, delete=True)
    return _changed(root, path, draw(st.sampled_from(values)))


def malformed_events(valid_events: list[Any]) -> st.SearchStrategy[Any]:
    """Copies of the given events with one sweep mutation or one to three random ones, plus
    whole events of the wrong type."""
    chosen = st.sampled_from(valid_events)
    return st.one_of(chosen.flatmap(swept), chosen.flatmap(mutated), replacement_values())


# The sweep's values: one of each wrong type, plus the strings that broke parsers before.
SWEEP_VALUES = (
    None,
    True,
    0,
    1.5,
    10**30,
    float("nan"),
    "",
    "漢",
    "eu&west-1",
    "0001-01-01T00:00:00.000+0100",
    [],
    {},
    nested_lists(300),
)
# What replaces a whole packed string (an SNS Message, awslogs data).
PACKED_SWEEP = ("1" * 4_301, "[" * 100_000, "null", "é", "{", "[]")


def every_single_mutation(valid: Any) -> Iterator[tuple[str, Any]]:
    """Each node of ``valid`` deleted, wrapped, or replaced by each sweep value, one at a time:
    (label, event) pairs, exhaustive where the random fuzz only samples."""
    root = unpack(copy.deepcopy(valid))
    for path in node_paths(root):
        original = _get(root, path)
        values = [*SWEEP_VALUES, [original], {"value": original}]
        if isinstance(original, Packed):
            values.extend(PACKED_SWEEP)
        yield f"delete {_label(path)}", _changed(root, path, None, delete=True)
        for value in values:
            yield f"{_label(path)} = {_short(value)}", _changed(root, path, value)


def _changed(root: Any, path: Path, value: Any, delete: bool = False) -> Any:
    copied = copy.deepcopy(root)
    if delete:
        _delete(copied, path)
    else:
        _set(copied, path, value)
    return pack(copied)


def _label(path: Path) -> str:
    return "/".join(str(step) for step in path)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def sweep_failures(decode: Callable[[Any], Any], valid: Any) -> list[str]:
    """Every single mutation of ``valid`` that ``decode`` answers with anything but a result
    or a BadEventError, as "mutation: ErrorType: message" lines."""
    failures = []
    for label, body in every_single_mutation(valid):
        try:
            decode(body)
        except BadEventError:
            continue
        except Exception as error:
            failures.append(f"{label}: {type(error).__name__}: {str(error)[:120]}")
    return failures


def emf_metrics(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if '"_aws"' in line]


def malformed_counted(printed: str) -> bool:
    """Whether the captured output holds a MalformedEvents count of 1 (one EMF flush)."""
    return [m["MalformedEvents"] for m in emf_metrics(printed) if "MalformedEvents" in m] == [[1.0]]


def fresh_context(context: Any) -> Any:
    """A copy of the test's Lambda context with its whole timeout ahead of it."""
    return replace(context, started=time.monotonic())


def succeeds_or_refused(invoke: Callable[[], Any], capsys: Any) -> str:
    """Run one invocation: "ok", or "refused" when it raised BadEventError and counted it as
    malformed. Any other exception propagates and fails the test."""
    capsys.readouterr()
    try:
        invoke()
    except BadEventError:
        printed = capsys.readouterr().out
        assert malformed_counted(printed), "BadEventError not counted in MalformedEvents"
        return "refused"
    return "ok"
