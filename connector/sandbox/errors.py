"""Odoo-shaped exceptions raised by the sandbox's models and rendered by the protocol front-ends."""

from __future__ import annotations

from typing import ClassVar


class OdooError(Exception):
    """An error as Odoo reports it: a dotted exception name and a message.

    `xmlrpc_code` is the int faultCode of `/xmlrpc/2/`; `legacy_label` (when set) is the class name the
    legacy `/xmlrpc/` endpoint puts in its string faultCode ("warning -- <label>\\n\\n<message>");
    `json2_status` is the HTTP status JSON-2 answers with.
    """

    exc_name: ClassVar[str] = "builtins.Exception"
    xmlrpc_code: ClassVar[int] = 1
    legacy_label: ClassVar[str | None] = None
    json2_status: ClassVar[int] = 500

    def __init__(self, message: str, *, debug_hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        # The last traceback lines Odoo would show ("File ... in check_leaf" ...); purely cosmetic.
        self.debug_hint = debug_hint

    @property
    def short_name(self) -> str:
        return self.exc_name.rsplit(".", 1)[-1]

    def traceback_text(self) -> str:
        """A short traceback in Odoo's layout; the recorded ones are shortened the same way."""
        hint = f"{self.debug_hint}\n" if self.debug_hint else ""
        label = self.exc_name if self.exc_name.startswith("odoo.") else self.short_name
        if self.exc_name.startswith(("psycopg2.", "werkzeug.")):
            label = self.exc_name
        return f'Traceback (most recent call last):\n  File "<sandbox>", in dispatch\n{hint}{label}: {self.message}\n'


class UserError(OdooError):
    exc_name = "odoo.exceptions.UserError"
    xmlrpc_code = 2
    legacy_label = "UserError"
    json2_status = 422


class ValidationError(UserError):
    exc_name = "odoo.exceptions.ValidationError"
    legacy_label = "ValidationError"


class MissingError(UserError):
    exc_name = "odoo.exceptions.MissingError"
    legacy_label = "MissingError"


class AccessError(UserError):
    exc_name = "odoo.exceptions.AccessError"
    xmlrpc_code = 4
    legacy_label = "AccessError"
    json2_status = 403


class AccessDenied(OdooError):
    exc_name = "odoo.exceptions.AccessDenied"
    xmlrpc_code = 3
    json2_status = 401

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class PyValueError(OdooError):
    exc_name = "builtins.ValueError"


class PyTypeError(OdooError):
    exc_name = "builtins.TypeError"


class PyIndexError(OdooError):
    exc_name = "builtins.IndexError"


class PyAttributeError(OdooError):
    exc_name = "builtins.AttributeError"


class DatabaseError(OdooError):
    """An unknown database name: Odoo fails while connecting to PostgreSQL."""

    exc_name = "psycopg2.OperationalError"


class InvalidEscapeSequence(OdooError):
    """PostgreSQL refuses a LIKE pattern that ends with its escape character (a lone backslash)."""

    exc_name = "psycopg2.errors.InvalidEscapeSequence"


class SerializationFailure(OdooError):
    """PostgreSQL's concurrent-update error, which Odoo turns into a retryable failure."""

    exc_name = "psycopg2.errors.SerializationFailure"


class HttpError(Exception):
    """A JSON-2 level (werkzeug) error: an HTTP status and a message."""

    names: ClassVar[dict[int, str]] = {
        400: "werkzeug.exceptions.BadRequest",
        401: "werkzeug.exceptions.Unauthorized",
        404: "werkzeug.exceptions.NotFound",
        415: "werkzeug.exceptions.UnsupportedMediaType",
        422: "werkzeug.exceptions.UnprocessableEntity",
    }
    reasons: ClassVar[dict[int, str]] = {
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
        415: "Unsupported Media Type",
        422: "Unprocessable Entity",
    }

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
