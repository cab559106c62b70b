"""Wire formats: XML-RPC (both endpoint flavours), JSON-RPC and JSON-2 bodies for results and errors."""

from __future__ import annotations

import json
import xmlrpc.client
from typing import Any

from .behaviours import RecordsetResult
from .errors import AccessDenied, HttpError, OdooError, PyTypeError
from .profile import VersionProfile

XML_CT = "text/xml; charset=utf-8"
JSON_CT = "application/json; charset=utf-8"
HTML_CT = "text/html; charset=utf-8"


def _xml(profile: VersionProfile, payload: Any) -> bytes:
    text = xmlrpc.client.dumps(payload, methodresponse=True, allow_none=False, encoding="utf-8")
    if profile.version >= 18:
        # 18/19 answer with a double-quoted prolog and a blank line before the closing tag.
        text = text.replace("<?xml version='1.0'?>", '<?xml version="1.0"?>', 1)
        text = text.replace("</methodResponse>", "\n</methodResponse>")
    return text.encode("utf-8")


def marshal_error(value: RecordsetResult) -> PyTypeError:
    return PyTypeError(f"cannot marshal <class 'odoo.api.{value.model}'> objects")


def xmlrpc_result(profile: VersionProfile, result: Any) -> bytes:
    return _xml(profile, (result,))


def xmlrpc_fault(profile: VersionProfile, error: OdooError, *, legacy: bool) -> bytes:
    if legacy:
        if isinstance(error, AccessDenied):
            fault = xmlrpc.client.Fault("AccessDenied", error.message)  # type: ignore[arg-type]
        elif error.legacy_label:
            fault = xmlrpc.client.Fault(f"warning -- {error.legacy_label}\n\n{error.message}", "")  # type: ignore[arg-type]
        else:
            fault = xmlrpc.client.Fault(error.message, error.traceback_text())  # type: ignore[arg-type]
    elif error.xmlrpc_code in (2, 3, 4):
        fault = xmlrpc.client.Fault(error.xmlrpc_code, error.message)
    else:
        fault = xmlrpc.client.Fault(1, error.traceback_text())
    return _xml(profile, fault)


def jsonrpc_result(request_id: Any, result: Any) -> bytes:
    if isinstance(result, RecordsetResult):
        # JSON-RPC serialises the unmarshallable recordset with its repr.
        result = f"{result.model}{tuple(result.ids)!r}"
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}).encode("utf-8")


def error_data(profile: VersionProfile, error: OdooError) -> dict[str, Any]:
    if profile.version >= 19:
        return {
            "name": error.exc_name,
            "message": error.message,
            "arguments": [error.message],
            "context": {},
            "debug": error.traceback_text(),
        }
    return {
        "name": error.exc_name,
        "debug": error.traceback_text(),
        "message": error.message,
        "arguments": [error.message],
        "context": {},
    }


def jsonrpc_error(profile: VersionProfile, request_id: Any, error: OdooError) -> bytes:
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {
            "code": profile.jsonrpc_error_code,
            "message": "Odoo Server Error",
            "data": error_data(profile, error),
        },
    }
    return json.dumps(body).encode("utf-8")


def json2_result(result: Any) -> bytes:
    if isinstance(result, RecordsetResult):
        result = list(result.ids)
    return json.dumps(result).encode("utf-8")


def json2_error(error: OdooError | HttpError) -> tuple[int, bytes]:
    if isinstance(error, HttpError):
        name = HttpError.names.get(error.status, "werkzeug.exceptions.HTTPException")
        reason = HttpError.reasons.get(error.status, "Error")
        body = {
            "name": name,
            "message": error.message,
            "arguments": [error.message, error.status],
            "context": {},
            "debug": (
                'Traceback (most recent call last):\n  File "<sandbox>", in json2\n'
                f"{name}: {error.status} {reason}: {error.message}\n"
            ),
        }
        return error.status, json.dumps(body).encode("utf-8")
    body = {
        "name": error.exc_name,
        "message": error.message,
        "arguments": [error.message],
        "context": {},
        "debug": error.traceback_text(),
    }
    return error.json2_status, json.dumps(body).encode("utf-8")


NOT_FOUND_PAGE_16 = (
    '<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset="utf-8"/>\n        <title>Odoo</title>\n'
    '    </head>\n    <body>\n        <div id="wrapwrap">\n            <main>\n'
    "                <h1>404: Page not found!</h1>\n"
    "                <p>The page you were looking for could not be authorized.</p>\n"
    "            </main>\n        </div>\n    </body>\n</html>\n"
)

NO_DATABASE_PAGE = (
    "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>No database is selected and the requested URL was not found in the server-wide controllers.</p>\n"
    "<p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n"
    "<!-- Alternatively, use the X-Odoo-Database header. -->\n"
)

UNSUPPORTED_MEDIA_PAGE = (
    "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n<h1>Unsupported Media Type</h1>\n"
    "<p>Request inferred type is compatible with [&#39;http&#39;] but "
    "&#39;/json/2/&lt;__model__&gt;/&lt;__method__&gt;&#39; is type=&#39;json2&#39;.<br><br>"
    "Please verify the Content-Type request header and try again.</p>\n"
)


def redirect_page(target: str, version: int) -> str:
    if version <= 16:
        return (
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<title>Redirecting...</title>\n'
            "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to target URL: "
            f'<a href="{target}">{target}</a>. If not click the link.'
        )
    return (
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
        "<p>You should be redirected automatically to the target URL: "
        f'<a href="{target}">{target}</a>. If not, click the link.\n'
    )
