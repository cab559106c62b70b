"""ERP adapters behind one Protocol (see connector.erp.base)."""
