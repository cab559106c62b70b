"""The Odoo 16-19 adapter: XML-RPC, JSON-RPC and JSON-2 through odoo-client-lib (see `adapter`)."""

from __future__ import annotations

from connector.erp.odoo.adapter import OdooAdapter

__all__ = ["OdooAdapter"]
