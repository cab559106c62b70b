"""`dunning` run in the test's own process, as the console script runs it, for Odoo and Tryton tests alike."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main


class InProcessCli:
    """Runs `dunning --config CONFIG ...` here and returns (exit code, stdout, stderr)."""

    def __init__(self, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.config, self.capsys = config, capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        try:
            main(["--config", str(self.config), *args])
            code = 0
        except SystemExit as done:
            code = int(done.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> dict[str, Any]:
        code, out, err = self(*args, "--json", "-q")
        assert code == 0, err
        document: dict[str, Any] = json.loads(out)
        return document
