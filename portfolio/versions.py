"""Ordering of versions and the retention policy: which version is DEFAULT, DEPRECATED, inactive."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from portfolio.desired import Retention

_FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class PolicyVersion:
    """A version as ordering and the retention policy see it, existing or about to be created."""

    key: str  # version id, or "hash:<sha>" for a version not created yet
    name: str
    created: dt.datetime
    rolled_back: bool


@dataclass(frozen=True)
class VersionTarget:
    active: bool
    guidance: str  # DEFAULT | DEPRECATED


def semver_key(name: str) -> tuple[int, ...]:
    """1.10.0 sorts after 1.9.0; a name that is not dotted numbers sorts first."""
    parts = re.findall(r"\d+", name)
    return tuple(int(p) for p in parts) if parts else (-1,)


def newest_first(versions: Sequence[PolicyVersion]) -> list[PolicyVersion]:
    # Version name first: the declared version is what people reason about. Creation time breaks
    # ties between equal names (someone else's duplicate, or a non-numeric name).
    return sorted(
        versions, key=lambda v: (semver_key(v.name), _aware(v.created), v.key), reverse=True
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def retention_targets(
    versions: Sequence[PolicyVersion], policy: Retention
) -> dict[str, VersionTarget]:
    """Newest keep_active live versions DEFAULT; older ones DEPRECATED; beyond deactivate_after
    (counting every version) inactive. A rolled-back version stays DEPRECATED until a newer
    version is published, so a rerun of publish does not undo a rollback."""
    targets: dict[str, VersionTarget] = {}
    live_rank = 0
    for overall_rank, version in enumerate(newest_first(versions)):
        default = not version.rolled_back and live_rank < policy.keep_active
        live_rank += 0 if version.rolled_back else 1
        targets[version.key] = VersionTarget(
            active=default or overall_rank < policy.deactivate_after,
            guidance="DEFAULT" if default else "DEPRECATED",
        )
    return targets


def pending(key: str, name: str) -> PolicyVersion:
    """A version that publish is about to create: newer than anything that exists."""
    return PolicyVersion(key=key, name=name, created=_FAR_FUTURE, rolled_back=False)
