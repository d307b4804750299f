"""docs/adding-a-tool.md, followed for real: a throwaway fifth tool in a copy of the repository.

The copy holds the tracked files (git ls-files) with the virtualenvs and the dependency cache
linked in, so packages are not installed again. The tool's files are written as the page's "What
you write" says, the page's command block runs in order (bump, golden, build, lint, launch on an
in-process local AWS, the tool's tests and the meta-test), then the tests that loop over the
tools; finally git in the copy must show only the files the page lists.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from tests.support.repository_copy import copy_repository

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "adding-a-tool.md"
NAME = "heartbeat"  # product name and handler folder: the same word, no dash to convert
# What the page says a new tool changes, and nothing else.
ALLOWED_NEW = (
    f"handlers/{NAME}/",
    f"products/tools/{NAME}.py",
    f"tests/handlers/{NAME}/",
    f"docs/handlers/{NAME}.md",
    f"tests/products/golden/{NAME}.json",
    f"products/changelogs/{NAME}/",  # the release note bump records
)
ALLOWED_CHANGED = {"catalog.yaml", "products/versions.json", "docs/launch-parameters.md"}
LOOPING_TESTS = (
    "tests/products/test_config.py",
    "tests/products/test_build.py",
    "tests/products/test_meta.py",
    "tests/portfolio/test_real_build_local.py",
)

pytestmark = pytest.mark.slow

HANDLER = '''"""Heartbeat Lambda: records each scheduled run in its table."""

from __future__ import annotations

import os
from typing import Any

from oncall_shared.aws import client


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, str]:
    beat = str(event["time"])
    client("dynamodb").put_item(
        TableName=os.environ["BEAT_TABLE"], Item={"pk": {"S": "last-beat"}, "at": {"S": beat}}
    )
    return {"beat": beat}
'''

HANDLER_TEST = '''"""The heartbeat handler writes its beat into the table its settings name."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest


def test_a_run_records_its_time(
    moto_server: str,
    load_handler: Callable[[str], ModuleType],
    lambda_context: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_server)
    dynamodb.create_table(
        TableName="beats",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    monkeypatch.setenv("BEAT_TABLE", "beats")
    app = load_handler("heartbeat")
    assert app.lambda_handler({"time": "2026-01-01T00:05:00Z"}, lambda_context) == {
        "beat": "2026-01-01T00:05:00Z"
    }
    item = dynamodb.get_item(TableName="beats", Key={"pk": {"S": "last-beat"}})["Item"]
    assert item["at"] == {"S": "2026-01-01T00:05:00Z"}
'''

PRODUCT = '''"""heartbeat: a beat on a schedule, so a missed run raises the "did not run" alarm."""

from __future__ import annotations

from typing import Any

from awacs import dynamodb as dynamodb_actions
from troposphere import GetAtt, Ref

from products.builder import ProductBuilder
from products.iam import Grant, allow
from products.spec import Product

DEFAULT_RATES = ["rate(5 minutes)"]
RATE = r"^rate\\((1 minute|([2-9]|[12][0-9]|30) minutes)\\)$"


class Heartbeat(Product):
    name = "heartbeat"
    handler = "heartbeat"
    title = "On-call heartbeat"
    summary = "Records a beat in a table on a schedule; the on-call topic hears of a missed one."
    scheduled = True
    launch_resource_types = frozenset(
        {"AWS::DynamoDB::Table", "AWS::Events::Rule", "AWS::Lambda::Permission"}
    )
    # The schedules a launch may pick; at most 30 minutes apart, for the hourly missed-run alarm.
    build_settings_schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "rates": {
                "type": "array",
                "minItems": 1,
                "uniqueItems": True,
                "items": {"type": "string", "pattern": RATE},
            }
        },
    }

    def extend(self, builder: ProductBuilder) -> None:
        rates = list(builder.build_settings.get("rates", DEFAULT_RATES))
        builder.parameter(
            "BeatRate",
            "Heartbeat",
            "How often to beat",
            Type="String",
            Default=rates[0],
            AllowedValues=rates,
            Description="The schedule of the beats; the choices are set by the platform team.",
        )
        table = builder.state_table("BeatTable", "-beats")
        builder.event_rule("BeatRule", "Heartbeat schedule", ScheduleExpression=Ref("BeatRate"))
        builder.environment_variables["BEAT_TABLE"] = Ref(table)

    def permissions(self, builder: ProductBuilder) -> list[Grant]:
        return [allow([dynamodb_actions.PutItem], [GetAtt(builder.table, "Arn")], sid="Beats")]
'''

CONFIG_ENTRY = """  heartbeat:
    description: Records a beat on a schedule; a missed beat alarms.
    owner: Platform Engineering
    overrides: {}
    launch:
      default: {}
      prod: {AlertTopicArn: "arn:aws:sns:us-east-1:333333333333:platform-oncall-prod"}
    build:
      rates: [rate(5 minutes), rate(15 minutes)]
"""

HANDLER_DOC = """# heartbeat

Records a beat (`last-beat`, the scheduled event's time) in its table on every scheduled run;
a missed run raises the product's "did not run" alarm. A tool of `tests/test_adding_a_tool.py`.
"""

HANDLER_REQUIREMENTS = "handlers/health_checker/requirements.txt"  # same pins: a cache hit


def _run(copy: Path, command: list[str]) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    done = subprocess.run(
        command, cwd=copy, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{shlex.join(command)} failed:\n{output[-4000:]}"
    return output


def _write(copy: Path, relative: str, text: str) -> None:
    (copy / relative).parent.mkdir(parents=True, exist_ok=True)
    (copy / relative).write_text(text)


def _add_the_tool(copy: Path) -> None:
    """The four parts of "What you write"."""
    _write(copy, f"handlers/{NAME}/app.py", HANDLER)
    _write(copy, f"handlers/{NAME}/requirements.txt", (REPO / HANDLER_REQUIREMENTS).read_text())
    _write(copy, f"products/tools/{NAME}.py", PRODUCT)
    _add_config_entries(copy / "catalog.yaml")
    _write(copy, f"tests/handlers/{NAME}/test_{NAME}_app.py", HANDLER_TEST)
    _write(copy, f"docs/handlers/{NAME}.md", HANDLER_DOC)


def _add_config_entries(catalog: Path) -> None:
    text = catalog.read_text()
    constraint = re.search(r"^    [a-z-]+: \*prod_needs_oncall_topic\n", text, re.MULTILINE)
    assert constraint, "catalog.yaml has no template constraint entry to follow"
    at = constraint.end()
    text = f"{text[:at]}    {NAME}: *prod_needs_oncall_topic\n{text[at:]}"
    assert text.rstrip().splitlines()[-1].startswith("      "), "products: is not last"
    catalog.write_text(text.rstrip("\n") + "\n" + CONFIG_ENTRY)


def _documented_commands(copy: Path) -> list[list[str]]:
    """The page's command block, for this tool, with the copy's interpreter."""
    page = DOC.read_text()
    block = re.search(r"## Then, in this order.*?```sh\n(.*?)```", page, re.DOTALL)
    assert block, f"{DOC} has no command block under 'Then, in this order'"
    python = str(copy / ".venv" / "bin" / "python")
    commands = []
    for line in block.group(1).splitlines():
        words = shlex.split(line.replace("<name>", NAME).replace("<handler>", NAME), comments=True)
        if words:
            commands.append(
                [python if word in ("python", ".venv/bin/python") else word for word in words]
            )
    return commands


def _changed_files(copy: Path) -> tuple[set[str], set[str]]:
    status = _run(copy, ["git", "status", "--porcelain", "--untracked-files=all"])
    new = {line[3:] for line in status.splitlines() if line.startswith("??")}
    changed = {line[3:] for line in status.splitlines() if not line.startswith("??")}
    return new, changed


def test_a_fifth_tool_follows_the_page_and_touches_no_central_file(tmp_path: Path) -> None:
    copy = tmp_path / "repo"
    copy_repository(copy)
    _add_the_tool(copy)
    outputs = [_run(copy, command) for command in _documented_commands(copy)]
    bump, _, build, lint, launch, _ = outputs
    assert f"{NAME}: version 1.0.0 for content" in bump, bump
    assert re.search(rf"^{NAME} +1\.0\.0 ", build, re.MULTILINE), build
    # Five products and the bootstrap, pipeline and spoke stacks.
    assert "cfn-lint: 8 template(s), 0 finding(s)" in lint and "checkov: 0 failed" in lint, lint
    assert f"{NAME}-dev (" in launch and "at version 1.0.0" in launch, launch
    assert f"FunctionName = oncall-{NAME}-dev" in launch, launch
    pytest_in_copy = [str(copy / ".venv" / "bin" / "python"), "-m", "pytest", "-v"]
    looping = _run(copy, [*pytest_in_copy, "-p", "no:cacheprovider", *LOOPING_TESTS])
    assert f"test_product_has_every_part[{NAME}] PASSED" in looping, looping[-4000:]
    new, changed = _changed_files(copy)
    assert changed == ALLOWED_CHANGED
    assert {path for path in new if not path.startswith(ALLOWED_NEW)} == set()
    assert f"tests/products/golden/{NAME}.json" in new
