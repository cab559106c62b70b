"""The Tryton adapter (trytond 8.x over JSON-RPC with `requests`) behind `ErpAdapter`; see `adapter`."""

from __future__ import annotations

from connector.erp.tryton.adapter import TrytonAdapter

__all__ = ["TrytonAdapter"]
