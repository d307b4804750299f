"""The local cloud: moto's server plus our Service Catalog, served over real HTTP on 127.0.0.1."""

import functools
import json
import logging
import signal
import socket
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape

import botocore.session
from werkzeug.serving import BaseWSGIServer, make_server

from . import delivery, lambda_runtime
from .cfn import register_resource_types
from .clock import CLOCK, RealTimeDriver
from .dynamodb_json import install_dynamodb_serializer
from .errors import LocalCloudError
from .faults import FAULTS, Fault
from .monitoring import install as install_monitoring
from .s3_policy import install_policy_condition_handling
from .servicecatalog.dispatch import STATE, TARGET_PREFIX, service_catalog_app

StartResponse = Callable[..., Any]
logger = logging.getLogger("localcloud")
# smithy-rpc-v2-cbor requests for Service Catalog use this path instead of a target header.
_CBOR_PATH = "/service/AWS242ServiceCatalogService/operation/"


def reset_state() -> None:
    """Forget every resource in every service (moto's backends and our Service Catalog)."""
    from moto.moto_api._internal.models import moto_api_backend

    STATE.retire()  # first: no provisioning job may write into the fresh moto state
    moto_api_backend.reset()
    STATE.reset()
    CLOCK.reset()
    lambda_runtime.reset()
    delivery.reset()
    FAULTS.clear()


# Signing names that differ from botocore's service names (most are equal).
_SIGNING_NAME_TO_SERVICE = {"monitoring": "cloudwatch", "email": "ses", "states": "stepfunctions"}


@functools.cache
def _protocol_of(signing_name: str) -> str:
    """botocore's protocol for the service a request was signed for (json, rest-json, query...)."""
    session = botocore.session.get_session()
    direct = _SIGNING_NAME_TO_SERVICE.get(signing_name, signing_name)
    if direct in session.get_available_services():
        return str(session.get_service_model(direct).resolved_protocol)
    for service in session.get_available_services():  # slow (seconds): every model is loaded
        model = session.get_service_model(service)
        names = {model.signing_name, model.endpoint_prefix, service}
        if signing_name in names:
            return str(model.resolved_protocol)
    return "query"


def _wants_json(environ: dict[str, Any]) -> bool:
    if environ.get("HTTP_X_AMZ_TARGET") or "json" in environ.get("CONTENT_TYPE", ""):
        return True
    if environ.get("PATH_INFO", "").startswith(_CBOR_PATH):
        return True
    scope = (
        environ.get("HTTP_AUTHORIZATION", "")
        .split("Credential=", 1)[-1]
        .split(",", 1)[0]
        .split("/")
    )
    return len(scope) >= 5 and _protocol_of(scope[3]) in ("json", "rest-json")


def _aws_error(
    environ: dict[str, Any], start_response: StartResponse, code: str, message: str, status: str
) -> Iterable[bytes]:
    """An error in the request's own protocol, so SDKs show the code instead of failing to parse."""
    if _wants_json(environ):
        body = json.dumps({"__type": code, "message": message}).encode()
        content_type = "application/x-amz-json-1.1"
    else:
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
            f"<Message>{escape(message)}</Message></Error><RequestId>localcloud</RequestId>"
            "</ErrorResponse>"
        ).encode()
        content_type = "text/xml"
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def _action_name(environ: dict[str, Any]) -> str:
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return target
    return f"{environ.get('REQUEST_METHOD', '')} {environ.get('PATH_INFO', '')}"


class LocalCloudApp:
    """Routes Service Catalog to our emulation and everything else to moto."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self.moto = DomainDispatcherApplication(create_backend_app)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        fault = FAULTS.take(environ)
        if fault is not None:
            return _aws_error(environ, start_response, fault.code, fault.message, fault.status)
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(TARGET_PREFIX):
            return service_catalog_app(environ, start_response)
        if delivery.control.handles(environ):
            return delivery.control.app(environ, start_response)
        if path.startswith(_CBOR_PATH):
            return _aws_error(
                environ,
                start_response,
                "UnsupportedProtocol",
                "localcloud speaks the AWS JSON 1.1 protocol for Service Catalog, not CBOR",
                "400 Bad Request",
            )
        if path.startswith("/moto-api/reset"):
            STATE.reset()
        return self._moto(environ, start_response)

    def _moto(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._moto_without_html(environ, start_response)
        except NotImplementedError:
            # moto raises this for an operation it lacks; AWS would never answer with HTML.
            message = f"Operation {_action_name(environ)} is not supported by localcloud (moto)"
            return _aws_error(
                environ, start_response, "UnsupportedOperation", message, "501 Not Implemented"
            )
        except Exception as error:  # a crash inside moto: answer in the protocol, keep the trace
            logger.exception("localcloud: %s failed inside moto", _action_name(environ))
            message = f"{_action_name(environ)} failed: {type(error).__name__}: {error}"
            return _aws_error(
                environ, start_response, "InternalFailure", message, "500 Internal Server Error"
            )

    def _moto_without_html(
        self, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """moto's answer, except Flask's HTML 404/405 pages for routes moto does not have."""
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured.update(status=status, headers=headers, exc_info=exc_info)
            return lambda data: None  # moto answers through the returned iterable only

        body = self.moto(environ, capture)
        if captured["status"][:3] in ("404", "405"):
            # Only Flask's "no such route" page; moto's own 404s (S3 HEAD, NoSuchKey) stay.
            content = b"".join(body)
            body = [content]
            is_html_page = content.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html"))
        else:
            is_html_page = False
        if is_html_page:
            message = f"Operation {_action_name(environ)} is not supported by localcloud (moto)"
            return _aws_error(
                environ, start_response, "UnsupportedOperation", message, "501 Not Implemented"
            )
        start_response(captured["status"], captured["headers"], captured["exc_info"])
        return body  # type: ignore[no-any-return]


def _request_handler(verbose: bool) -> type:
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class Handler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            if verbose:
                super().log_request(code, size)

    return Handler


def _check_can_listen(host: str, port: int) -> None:
    # werkzeug answers a busy port with print + sys.exit(1); find out first, with the reason.
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # Same option as werkzeug's server, so a port just freed (TIME_WAIT) is not "busy".
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((host, port))
    except OSError as error:
        raise LocalCloudError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    finally:
        probe.close()


def build_server(host: str, port: int, verbose: bool = False) -> BaseWSGIServer:
    register_resource_types()
    install_policy_condition_handling()
    install_dynamodb_serializer()
    lambda_runtime.install()
    delivery.install()
    install_monitoring()
    _check_can_listen(host, port)
    try:
        server = make_server(
            host,
            port,
            lambda_runtime.with_request_context(LocalCloudApp()),
            threaded=True,
            request_handler=_request_handler(verbose),
        )
    except OSError as error:
        raise LocalCloudError(f"cannot listen on {host}:{port}: {error.strerror}") from error
    delivery.set_endpoint(f"http://{f'[{host}]' if ':' in host else host}:{server.server_port}")
    return server


class LocalCloud:
    """In-process local cloud on a free (or given) port; state is fresh for every `with`."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise LocalCloudError(
                "LocalCloud is not running; use it as a context manager or call start()"
            )
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> str:
        if self._server is not None:
            raise LocalCloudError(f"LocalCloud is already running at {self.endpoint_url}")
        reset_state()
        self._server = build_server(self.host, self.port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="localcloud", daemon=True
        )
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is None:
            return
        delivery.forget_endpoint(self.endpoint_url)
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()
        self._server, self._thread = None, None

    def reset(self) -> None:
        reset_state()

    def inject_fault(
        self,
        service: str,
        operation: str,
        code: str,
        message: str = "injected by localcloud",
        *,
        status: str = "400 Bad Request",
        times: int | None = None,
    ) -> Fault:
        """Answer OPERATION of SERVICE (its signing name) with the AWS error CODE, TIMES times
        (every time when None) until the next reset; the Fault counts the requests answered."""
        return FAULTS.inject(Fault(service, operation, code, message, status, times))

    def now(self) -> float:
        """The local cloud's time (epoch seconds): it moves only through `advance`."""
        return CLOCK.now()

    def advance(self, seconds: float) -> float:
        """Move the local cloud's clock forward, running everything that falls due on the way."""
        return CLOCK.advance(seconds)

    def __enter__(self) -> "LocalCloud":
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _stop_on_signals() -> None:
    # `kill`, docker stop and CI runners send SIGTERM: stop as cleanly as on Ctrl-C. SIGINT is
    # set explicitly too: a process started in the background by a non-interactive shell
    # inherits SIGINT as ignored, and Ctrl-C (or `kill -INT`) would then never stop the server.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGINT, _interrupt)


def serve(
    host: str,
    port: int,
    announce: Callable[[str], None] | None = None,
    speed: float | None = 1.0,
    auto_confirm: bool = False,
) -> None:
    """Serve in the foreground until interrupted (Ctrl-C raises KeyboardInterrupt to the caller).

    `announce` receives the endpoint URL once the socket is listening (useful with port 0). The
    clock runs in real time, `speed` times faster (None: only when the control endpoint advances
    it); `auto_confirm` confirms SNS http/https/email
    subscriptions without the confirmation round trip.
    """
    reset_state()
    server = build_server(host, port, verbose=True)
    delivery.DELIVERY.auto_confirm = auto_confirm
    driver = None if speed is None else RealTimeDriver(CLOCK, speed)
    _stop_on_signals()
    if announce is not None:
        announce(f"http://{host}:{server.server_port}")
    if driver is not None:
        driver.start()
    try:
        server.serve_forever()
    finally:
        if driver is not None:
            driver.stop()
        server.server_close()
