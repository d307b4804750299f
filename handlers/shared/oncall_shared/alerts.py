"""Publish alerts to the SNS topic, within SNS's subject and size limits."""

from __future__ import annotations

import re

from oncall_shared.aws import client
from oncall_shared.errors import OncallError

# SNS: subject is ASCII, no line breaks or control characters, must begin with a letter,
# number or punctuation mark, and be under 100 characters.
MAX_SUBJECT_CHARS = 99
# SNS: message up to 262,144 bytes (256 KB). The subject travels in the same request, so
# leave room for it and a little for the request envelope.
MAX_PUBLISH_BYTES = 262_144
_ENVELOPE_MARGIN_BYTES = 1_024
TRUNCATION_MARKER = "\n...[truncated]"
_NON_PRINTABLE_ASCII = re.compile(r"[^\x20-\x7e]+")
_SPACES = re.compile(r" {2,}")


def safe_subject(subject: str, fallback: str = "On-call alert") -> str:
    """Single-line printable ASCII subject under 100 chars; non-ASCII becomes '?'."""
    ascii_text = subject.encode("ascii", "replace").decode("ascii")
    cleaned = _SPACES.sub(" ", _NON_PRINTABLE_ASCII.sub(" ", ascii_text)).strip()
    if not cleaned:
        cleaned = fallback
    if len(cleaned) > MAX_SUBJECT_CHARS:
        cleaned = cleaned[: MAX_SUBJECT_CHARS - 3].rstrip() + "..."
    return cleaned


def truncate_utf8(text: str, max_bytes: int, marker: str = TRUNCATION_MARKER) -> str:
    """Trim ``text`` to at most ``max_bytes`` UTF-8 bytes without splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    budget = max_bytes - len(marker.encode("utf-8"))
    if budget <= 0:
        raise OncallError(f"max_bytes={max_bytes} leaves no room for the truncation marker")
    # errors="ignore" drops a trailing partial multi-byte sequence instead of corrupting it.
    return encoded[:budget].decode("utf-8", errors="ignore") + marker


def fit_message(message: str, subject: str) -> str:
    budget = MAX_PUBLISH_BYTES - len(subject.encode("utf-8")) - _ENVELOPE_MARGIN_BYTES
    return truncate_utf8(message, budget)


def publish_alert(topic_arn: str, subject: str, message: str) -> str:
    """Publish to SNS and return the MessageId. Errors propagate so Lambda retries."""
    if not topic_arn:
        raise OncallError("topic_arn='' : no SNS topic to publish the alert to")
    clean_subject = safe_subject(subject)
    response = client("sns").publish(
        TopicArn=topic_arn,
        Subject=clean_subject,
        Message=fit_message(message, clean_subject),
    )
    return str(response["MessageId"])
