"""Odoo-compatible sandbox server (XML-RPC, JSON-RPC, JSON-2 over HTTP on loopback) for tests and the demo."""

from __future__ import annotations

from .faults import FaultOptions
from .process import SandboxProcess, run_sandbox_process
from .server import (
    ACCOUNTANT_LOGIN,
    ACCOUNTANT_PASSWORD,
    ADMIN_LOGIN,
    ADMIN_PASSWORD,
    API_KEY,
    SandboxServer,
)

__all__ = [
    "ACCOUNTANT_LOGIN",
    "ACCOUNTANT_PASSWORD",
    "ADMIN_LOGIN",
    "ADMIN_PASSWORD",
    "API_KEY",
    "FaultOptions",
    "SandboxProcess",
    "SandboxServer",
    "run_sandbox_process",
]
