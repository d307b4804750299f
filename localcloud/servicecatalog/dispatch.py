"""Service Catalog WSGI endpoint: AWS JSON 1.1, X-Amz-Target AWS242ServiceCatalogService.<Op>."""

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session

from ..shapes import request_problems, validation_message
from .admin import BACKGROUND, AdminBackend
from .exceptions import (
    ServiceCatalogError,
    UnknownOperation,
    UnsupportedOperation,
    ValidationException,
)
from .launch_responses import LAUNCH_HANDLERS
from .provisioning import Provisioner
from .responses import ADMIN_HANDLERS, CatalogRequest, Handler

TARGET_PREFIX = "AWS242ServiceCatalogService."
CONTENT_TYPE = "application/x-amz-json-1.1"
DEFAULT_ACCOUNT_ID = "123456789012"
HANDLERS: dict[str, Handler] = {**ADMIN_HANDLERS, **LAUNCH_HANDLERS}
RESET_WAIT_SECONDS = 10.0
StartResponse = Callable[..., Any]
logger = logging.getLogger("localcloud.servicecatalog")


class CatalogState:
    """Backends per (account, region), created on first use, dropped by reset()."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._backends: dict[tuple[str, str], tuple[AdminBackend, Provisioner]] = {}

    def backends(self, account_id: str, region: str) -> tuple[AdminBackend, Provisioner]:
        with self._lock:
            key = (account_id, region)
            if key not in self._backends:
                admin = AdminBackend(account_id, region)
                self._backends[key] = (admin, Provisioner(admin))
            return self._backends[key]

    def admins_in(self, region: str) -> list[AdminBackend]:
        with self._lock:
            return [admin for (_, where), (admin, _) in self._backends.items() if where == region]

    def retire(self) -> None:
        """Stop pending work of the current state from starting, and let running work finish."""
        with self._lock:
            for admin, _ in self._backends.values():
                admin.retired = True  # timers of the old state must not touch the new one
        if not BACKGROUND.wait_idle(RESET_WAIT_SECONDS):
            logger.warning(
                "localcloud: background work still running after %ss", RESET_WAIT_SECONDS
            )

    def reset(self) -> None:
        self.retire()
        with self._lock:
            self._backends.clear()


STATE = CatalogState()
_SERVICE_MODEL = botocore.session.get_session().get_service_model("servicecatalog")


def region_of(environ: dict[str, Any]) -> str:
    # Credential scope: "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ..."
    auth = environ.get("HTTP_AUTHORIZATION", "")
    parts = auth.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    return parts[2] if len(parts) >= 5 else "us-east-1"


def account_of(environ: dict[str, Any]) -> str:
    """The caller's account, decided the way moto decides it for every other service."""
    if "MOTO_ACCOUNT_ID" in os.environ:
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return str(environ["HTTP_X_MOTO_ACCOUNT_ID"])
    auth = environ.get("HTTP_AUTHORIZATION", "")
    if "Credential=" not in auth:
        return DEFAULT_ACCOUNT_ID
    access_key = auth.split("Credential=", 1)[1].split("/", 1)[0]
    from moto.iam.models import get_account_id_from

    return str(get_account_id_from(access_key))


def _read_params(environ: dict[str, Any]) -> dict[str, Any]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length else b""
    if not body.strip():
        return {}
    try:
        params = json.loads(body)
    except json.JSONDecodeError as error:
        raise ValidationException(f"Request body is not valid JSON: {error}") from error
    if not isinstance(params, dict):
        raise ValidationException("Request body must be a JSON object.")
    return params


def _operation_model(operation: str) -> Any:
    if operation not in _SERVICE_MODEL.operation_names:
        raise UnknownOperation(f"Operation {operation!r} does not exist in AWS Service Catalog.")
    return _SERVICE_MODEL.operation_model(operation)


def handle(operation: str, params: dict[str, Any], account_id: str, region: str) -> dict[str, Any]:
    """Validate and run one operation; raises ServiceCatalogError for any client-visible failure."""
    model = _operation_model(operation)
    problems = request_problems(params, model.input_shape)
    if problems:
        raise ValidationException(validation_message(problems))
    handler = HANDLERS.get(operation)
    if handler is None:
        raise UnsupportedOperation(
            f"Service Catalog operation {operation} is not supported by localcloud."
        )
    admin, provisioner = STATE.backends(account_id, region)
    with admin.lock:
        request = CatalogRequest(
            params,
            admin,
            provisioner,
            peers=lambda: STATE.admins_in(region),
            catalog_of=lambda account, where: STATE.backends(account, where)[0],
        )
        return handler(request)


def _respond(
    start_response: StartResponse, status: str, document: dict[str, Any]
) -> Iterable[bytes]:
    body = json.dumps(document).encode("utf-8")
    start_response(status, [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))])
    return [body]


def error_document(error: ServiceCatalogError) -> dict[str, str]:
    return {"__type": error.code, "message": error.message}


def service_catalog_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    operation = environ.get("HTTP_X_AMZ_TARGET", "").removeprefix(TARGET_PREFIX)
    try:
        answer = handle(operation, _read_params(environ), account_of(environ), region_of(environ))
    except ServiceCatalogError as error:
        status = f"{error.status} {'Not Implemented' if error.status == 501 else 'Bad Request'}"
        return _respond(start_response, status, error_document(error))
    return _respond(start_response, "200 OK", answer)
