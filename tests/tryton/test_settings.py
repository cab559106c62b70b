"""The [erp] section with kind = "tryton": which protocols it takes, and the sentence when it is wrong."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connector.config import load_settings
from connector.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _config(tmp_path: Path, protocol: str, url: str) -> Path:
    text = EXAMPLE.read_text(encoding="utf-8").replace('kind = "odoo"', 'kind = "tryton"', 1)
    text = text.replace('protocol = "jsonrpcs"', f'protocol = "{protocol}"', 1)
    text = text.replace('url = "https://erp.example.com"', f'url = "{url}"', 1)
    path = tmp_path / "dunning.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("protocol", "url"), [("jsonrpcs", "https://erp.example.com"),
                                               ("jsonrpc", "http://127.0.0.1:8000")], ids=["https", "http"])
def test_tryton_takes_json_rpc(tmp_path: Path, protocol: str, url: str) -> None:
    settings = load_settings(_config(tmp_path, protocol, url), dt.date(2026, 11, 23))
    assert settings.erp is not None and settings.erp.kind == "tryton" and settings.erp.protocol == protocol


@pytest.mark.parametrize("protocol", ["xmlrpcs", "json2s"])
def test_tryton_refuses_odoo_only_protocols(tmp_path: Path, protocol: str) -> None:
    with pytest.raises(ConfigError, match="Tryton speaks JSON-RPC only"):
        load_settings(_config(tmp_path, protocol, "https://erp.example.com"), dt.date(2026, 11, 23))
