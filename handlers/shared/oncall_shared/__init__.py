"""Shared library copied into every On-call Tools Lambda zip (package ``oncall_shared``)."""
