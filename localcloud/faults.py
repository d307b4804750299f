"""Errors on demand: chosen requests answer with an AWS error, over HTTP, as a busy or locked-down
account would (throttling, AccessDeniedException).

moto never throttles and never denies (it evaluates no IAM policy), so without this the code
paths that handle those answers cannot be reached through a real client. A fault matches the
service a request was signed for (its signing name: `dynamodb`, `monitoring`...) and the
operation named in its X-Amz-Target header (JSON-protocol services: DynamoDB, CloudWatch,
Service Catalog...). It answers `times` requests (every one when None) and then stops matching.
Faults are cleared with the rest of the state (`reset_state`, the `local_endpoint` fixture).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any


@dataclass
class Fault:
    service: str  # the signing name of the service: dynamodb, monitoring, ...
    operation: str  # PutItem, ListTagsForResource, ...
    code: str  # the AWS error code the client sees: ThrottlingException, AccessDeniedException
    message: str
    status: str = "400 Bad Request"
    times: int | None = None  # how many requests it answers; None: all of them
    answered: int = 0

    def matches(self, service: str, operation: str) -> bool:
        spent = self.times is not None and self.answered >= self.times
        return not spent and (self.service, self.operation) == (service, operation)


class Faults:
    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def inject(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, environ: dict[str, Any]) -> Fault | None:
        """The first fault matching this request, counted as answered; None when none does."""
        service, operation = signing_name(environ), operation_name(environ)
        with self._lock:
            for fault in self._faults:
                if fault.matches(service, operation):
                    fault.answered += 1
                    return fault
        return None


def signing_name(environ: dict[str, Any]) -> str:
    """The service in the SigV4 scope: Credential=KEY/DATE/REGION/SERVICE/aws4_request."""
    credential = str(environ.get("HTTP_AUTHORIZATION", "")).split("Credential=", 1)[-1]
    scope = credential.split(",", 1)[0].split("/")
    return scope[3] if len(scope) >= 5 else ""


def operation_name(environ: dict[str, Any]) -> str:
    """The operation of a JSON-protocol request: X-Amz-Target is "<ServicePrefix>.<Operation>"."""
    return str(environ.get("HTTP_X_AMZ_TARGET", "")).rpartition(".")[2]


FAULTS = Faults()
