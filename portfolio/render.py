"""Human and machine renderings of plans, status and summaries. No logic, no AWS."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from portfolio.changes import Action, Change, Plan
from portfolio.status import CatalogStatus

_PLAN_HEADERS = ("REGION", "KIND", "NAME", "ACTION", "DETAIL")
_MAX_CELL = 70


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    cells = [[_clip(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join(lines)


def _clip(text: str) -> str:
    # Cut in the middle: the ends of a long S3 key (product and hash suffix) tell them apart.
    if len(text) <= _MAX_CELL:
        return text
    keep = (_MAX_CELL - 3) // 2
    return text[:keep] + "..." + text[-(_MAX_CELL - 3 - keep) :]


def plan_table(plan: Plan, show_unchanged: bool = True) -> str:
    changes = plan.changes if show_unchanged else tuple(plan.pending)
    rows = [(c.region, c.kind, c.name, str(c.action), c.detail) for c in changes]
    return table(_PLAN_HEADERS, rows) + "\n" + plan_counts(plan)


def plan_counts(plan: Plan) -> str:
    counts = Counter(c.action for c in plan.changes)
    return ", ".join(
        f"{counts.get(a, 0)} to {a}"
        if a is not Action.NO_CHANGE
        else f"{counts.get(a, 0)} unchanged"
        for a in Action
    )


def plan_json(plan: Plan) -> str:
    return json.dumps(
        {
            "changes_pending": plan.has_changes,
            "changes": [_change_dict(c) for c in plan.changes],
        },
        indent=2,
    )


def _change_dict(change: Change) -> dict[str, str]:
    return {
        "region": change.region,
        "kind": change.kind,
        "name": change.name,
        "action": str(change.action),
        "detail": change.detail,
    }


def progress_line(change: Change) -> str:
    return f"  {change.region}: {change.action} {change.kind} {change.name}"


def status_text(status: CatalogStatus) -> str:
    lines = [
        f"portfolio {region}: {pid or 'not published'}"
        for region, pid in status.portfolio_ids.items()
    ]
    rows = []
    for product in status.products:
        for v in product.versions or []:
            rows.append(
                (
                    product.region,
                    product.name,
                    v.name,
                    v.id,
                    v.guidance,
                    "yes" if v.active else "no",
                    (v.content_hash or "-")[:12] + (" rolled-back" if v.rolled_back else ""),
                )
            )
        if not product.versions:
            rows.append(
                (product.region, product.name, "-", product.product_id or "-", "-", "-", "-")
            )
    lines.append(table(("REGION", "PRODUCT", "VERSION", "ID", "GUIDANCE", "ACTIVE", "HASH"), rows))
    drift = status.drift
    lines.append("drift: none" if not drift else "drift:\n" + "\n".join(f"  - {d}" for d in drift))
    return "\n".join(lines)


def status_json(status: CatalogStatus) -> str:
    return json.dumps(
        {
            "portfolio_ids": status.portfolio_ids,
            "products": [
                {
                    "region": p.region,
                    "name": p.name,
                    "product_id": p.product_id,
                    "declared_version": p.declared_version,
                    "default_versions": p.default_versions,
                    "versions": [
                        {
                            "id": v.id,
                            "name": v.name,
                            "guidance": v.guidance,
                            "active": v.active,
                            "content_hash": v.content_hash,
                            "rolled_back": v.rolled_back,
                        }
                        for v in p.versions
                    ],
                    "drift": p.drift,
                }
                for p in status.products
            ],
            "drift": status.drift,
        },
        indent=2,
    )
