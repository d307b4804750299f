"""The launch parameters of every product as a Markdown reference, read from the built templates.

docs/launch-parameters.md is this text; a test compares the two, so the page cannot drift from
what the launch form shows (regenerate with the golden tests' --update-golden).
"""

from __future__ import annotations

from typing import Any

HEADER = """# Launch parameters

What each product asks for when a team launches it (the Service Catalog form shows the same
labels, groups and descriptions; `python build.py launch TOOL --env ENV --param KEY=VALUE`
passes them from the command line, on top of `catalog.yaml` `products.<tool>.launch`). The
per-environment settings behind `Environment` (memory, timeout, retention, thresholds) are in
[configuration.md](configuration.md).

Generated from the built templates by `products/reference.py`; do not edit by hand.
"""


def launch_parameters_markdown(templates: dict[str, dict[str, Any]]) -> str:
    sections = [HEADER]
    for name in sorted(templates):
        sections.append(_product_section(name, templates[name]))
    return "\n".join(sections)


def _product_section(name: str, template: dict[str, Any]) -> str:
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    labels = {key: value["default"] for key, value in interface["ParameterLabels"].items()}
    rows = [
        f"## {name}",
        "",
        "| parameter | label | default | accepted | what it does |",
        "|---|---|---|---|---|",
    ]
    for group in interface["ParameterGroups"]:
        for parameter in group["Parameters"]:
            spec = template["Parameters"][parameter]
            rows.append(
                f"| `{parameter}` | {labels[parameter]} | {_default(spec)} | {_accepted(spec)} "
                f"| {_cell(spec['Description'])} |"
            )
    return "\n".join(rows) + "\n"


def _default(spec: dict[str, Any]) -> str:
    default = spec.get("Default", "")
    return f"`{default}`" if default != "" else "(empty)"


def _accepted(spec: dict[str, Any]) -> str:
    if "AllowedValues" in spec:
        return ", ".join(f"`{value}`" for value in spec["AllowedValues"])
    if "MinValue" in spec or "MaxValue" in spec:
        return f"{spec.get('MinValue', '')} to {spec.get('MaxValue', '')}"
    if "AllowedPattern" in spec:
        return f"`{_cell(spec['AllowedPattern'])}`"
    return "any text"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
