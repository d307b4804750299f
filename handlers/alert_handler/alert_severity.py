"""Which severity an alarm has: its tags first, then a naming convention, then the default.

Convention (case-insensitive), checked on the alarm name then its description:
  - a bracketed token anywhere: "[critical]", "[error]", "[warning]", "[info]"
  - or a name prefix followed by '-', '_', '.' or ':': "critical-checkout-5xx", "warning_queue"
Tag keys looked at, first match wins: "oncall:severity", "severity", "Severity".
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from alert_settings import SEVERITIES
from aws_lambda_powertools import Logger
from botocore.exceptions import ClientError
from oncall_shared.aws import client
from oncall_shared.events import AlarmChange

logger = Logger(child=True)

SEVERITY_TAG_KEYS = ("oncall:severity", "severity", "Severity")
# Tags rarely change; caching spares ListTagsForResource (rate limited) during alarm storms.
TAG_CACHE_SECONDS = 300.0
# Errors meaning "no usable tags" (cross-account alarm, deleted alarm, no permission): fall back.
# Anything else (throttling after retries, 5xx) is raised so Lambda retries the whole event.
_FALLBACK_ERROR_CODES = frozenset(
    {
        "ResourceNotFound",
        "ResourceNotFoundException",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidParameterValue",
    }
)
_SEVERITY_WORDS = "|".join(SEVERITIES)
_BRACKET = re.compile(rf"\[({_SEVERITY_WORDS})\]", re.IGNORECASE)
_PREFIX = re.compile(rf"^({_SEVERITY_WORDS})[-_.:]", re.IGNORECASE)


@dataclass(frozen=True)
class SeverityDecision:
    severity: str
    source: str  # "tag" | "name" | "description" | "default"


_tag_cache: dict[str, tuple[float, dict[str, str]]] = {}


def resolve_severity(
    alarm: AlarmChange, known: set[str] | frozenset[str], default: str
) -> SeverityDecision:
    tagged = severity_from_tags(alarm_tags(alarm), known)
    if tagged:
        return SeverityDecision(tagged, "tag")
    for source, text in (("name", alarm.name), ("description", alarm.description or "")):
        found = severity_from_text(text, known)
        if found:
            return SeverityDecision(found, source)
    return SeverityDecision(default, "default")


def severity_from_tags(tags: dict[str, str], known: set[str] | frozenset[str]) -> str | None:
    for key in SEVERITY_TAG_KEYS:
        value = tags.get(key, "").strip().lower()
        if value in known:
            return value
        if value:
            logger.warning(
                "alarm tag has an unknown severity; using the convention",
                extra={"tag": key, "value": value},
            )
    return None


def severity_from_text(text: str, known: set[str] | frozenset[str]) -> str | None:
    for pattern in (_BRACKET, _PREFIX):
        match = pattern.search(text)
        if match and match.group(1).lower() in known:
            return match.group(1).lower()
    return None


def alarm_tags(alarm: AlarmChange) -> dict[str, str]:
    cached = _tag_cache.get(alarm.arn)
    if cached and time.monotonic() - cached[0] < TAG_CACHE_SECONDS:
        return cached[1]
    tags = _fetch_tags(alarm)
    _tag_cache[alarm.arn] = (time.monotonic(), tags)
    return tags


def _fetch_tags(alarm: AlarmChange) -> dict[str, str]:
    cloudwatch = client("cloudwatch", alarm.region)
    try:
        response = cloudwatch.list_tags_for_resource(ResourceARN=alarm.arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code not in _FALLBACK_ERROR_CODES:
            raise
        logger.warning(
            "cannot read alarm tags; using the naming convention",
            extra={"alarm": alarm.arn, "code": code},
        )
        return {}
    return {str(tag["Key"]): str(tag["Value"]) for tag in response.get("Tags", [])}


def clear_tag_cache() -> None:
    _tag_cache.clear()
