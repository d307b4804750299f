"""moto's S3 notifications, re-wired through `s3.py` (moto's Lambda path needed Docker, its
event lacked fields, and failures vanished in a bare except)."""

from __future__ import annotations

from ..clock import CLOCK
from . import s3
from .moto_sns import patch

_installed = False


def install() -> None:
    global _installed  # noqa: PLW0603 - moto's module is patched once per process
    if _installed:
        return
    from moto.s3 import notifications

    patch(notifications, "_get_s3_event", s3.s3_event)
    patch(notifications, "_invoke_awslambda", s3.invoke_for_bucket)
    patch(notifications, "_send_sns_message", s3.publish_for_bucket)
    patch(notifications, "_send_sqs_message", s3.queue_for_bucket)
    patch(notifications, "unix_time", CLOCK.now)  # EventBridge "Object Created" times
    _installed = True
