"""Embedded local AWS: moto plus Service Catalog and the CloudFormation types moto lacks.

Use `LocalCloud()` as a context manager for an in-process endpoint, or `serve(host, port)` to run
in the foreground (`python build.py local`).
"""

from .server import LocalCloud, reset_state, serve

__all__ = ["LocalCloud", "reset_state", "serve"]
