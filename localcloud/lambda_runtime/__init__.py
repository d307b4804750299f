"""A Lambda runtime without Docker: functions run their deployed code in worker subprocesses.

`install()` routes moto's Invoke API and its internal deliveries here. Other parts of localcloud
deliver events through `invoke_async` (the function's resource policy is checked) and pass on
`current_trace_header()` so recursive loops are stopped as Lambda stops them.
"""

from .asynchronous import DroppedEvent, dropped_events, forget_dropped_events, invoke_async
from .endpoint import current_trace_header, with_request_context
from .errors import DeliveryDenied, FunctionNotFound, UnsupportedRuntime
from .execution import retire_all
from .invoke_api import install


def reset() -> None:
    """Stop every warm worker and forget dropped events (the local cloud's state was reset)."""
    retire_all()
    forget_dropped_events()


__all__ = [
    "DeliveryDenied",
    "DroppedEvent",
    "FunctionNotFound",
    "UnsupportedRuntime",
    "current_trace_header",
    "dropped_events",
    "install",
    "invoke_async",
    "reset",
    "with_request_context",
]
