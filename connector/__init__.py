"""dunning-connector: polite, escalating payment reminders written back into the ERP."""

__version__ = "0.1.0"
