"""Locate the data folders (templates, mappings, samples) shipped with the package, and the cache folder."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder `name` ("templates", "mappings", "samples").

    An installed wheel carries them inside the package (connector/templates, ...); a source
    checkout or an editable install keeps templates/ and mappings/ at the repository's top.
    """
    for candidate in (_PACKAGE_DIR / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name}/ folder of dunning-connector is missing next to {_PACKAGE_DIR}")


def cache_dir() -> Path:
    """The connector's cache folder: $DUNNING_CACHE_DIR, else $XDG_CACHE_HOME/dunning-connector, else
    ~/.cache/dunning-connector. What is in it is made again when missing: it may be deleted at any time."""
    if explicit := os.environ.get("DUNNING_CACHE_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dunning-connector"
