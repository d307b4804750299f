"""Everything a handler logged in a test: what reached stdout/stderr and every log record with
all its fields (Powertools' handler keeps the stream it found when the logger was first built, so
records are read from the logging system as well)."""

from __future__ import annotations

import json

import pytest


def log_output(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    captured = capsys.readouterr()
    records = [json.dumps(vars(record), default=str) for record in caplog.records]
    return "\n".join([captured.out, captured.err, *records])
