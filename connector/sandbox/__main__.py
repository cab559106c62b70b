"""`python -m connector.sandbox ...`: run the sandbox in the foreground (see `command.py`)."""

from __future__ import annotations

from .command import sandbox

if __name__ == "__main__":
    sandbox(prog_name="python -m connector.sandbox")
