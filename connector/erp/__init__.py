"""ERP adapters behind one Protocol (see connector.erp.base); `open_adapter` picks the one configured."""

from __future__ import annotations

from connector.config import ErpSettings
from connector.erp.base import ErpAdapter
from connector.errors import ConfigError


def open_adapter(settings: ErpSettings, source: str = "configuration") -> ErpAdapter:
    """Connect lazily to the configured ERP; the password is read from its environment variable now."""
    if settings.kind == "odoo":
        from connector.erp.odoo import OdooAdapter

        return OdooAdapter(settings, settings.password())
    if settings.kind == "tryton":
        from connector.erp.tryton import TrytonAdapter

        return TrytonAdapter(settings, settings.password())
    raise ConfigError(source, [f"erp.kind: no adapter for {settings.kind!r}; expected \"odoo\" or \"tryton\""])
