"""Locate the data folders (templates, mappings, samples) shipped with the package."""

from __future__ import annotations

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
