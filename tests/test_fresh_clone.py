"""README's two commands on a fresh clone: each prepares its own .venv and runs."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout to clone from")
    target = tmp_path_factory.mktemp("fresh") / "dunning-connector"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(target)], check=True)
    assert not (target / ".venv").exists()
    return target


def test_the_demo_command_runs_on_a_fresh_clone(clone: Path) -> None:
    done = subprocess.run(["scripts/demo", "--days", "3", "--json"], cwd=clone, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["runs"] and (clone / ".venv" / "bin" / "dunning").exists()


def test_the_test_command_reuses_the_environment_and_passes_pytest_arguments(clone: Path) -> None:
    subprocess.run(["scripts/demo", "--days", "1", "--json"], cwd=clone, capture_output=True, timeout=900,
                   check=True)
    done = subprocess.run(["scripts/test", "tests/test_money.py", "-n", "0"], cwd=clone, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "passed" in done.stdout
    assert "Preparing .venv" not in done.stderr
