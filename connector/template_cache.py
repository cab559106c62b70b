"""Compiled templates kept between runs, in the connector's cache folder.

Each run of the connector is a new process (cron, a systemd timer), and compiling the bundled templates
for the text and the HTML parts took 0.33 s of every run that renders (0.008 s loaded from this cache,
measured on the 2-core machine of the README's figures). Jinja's own file cache keeps the compiled code
per template file and uses it only for the same source (it compares a checksum of the file) and the same
Python; the folder's name adds the rest the compiled code depends on: Jinja's version and the source of
the connector's rendering code (its code generator and environments). The cache only saves time: a
folder that cannot be made or is not private to this user, and a file that cannot be read or written,
mean compiling as before.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from connector.resources import cache_dir

log = logging.getLogger("dunning.render")


class _TemplateFiles(jinja2.FileSystemBytecodeCache):
    """Jinja's file cache, with every problem of a file taken as a miss: the template is compiled instead."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception as error:  # unreadable, damaged, cut short: compiled as if absent
            log.debug("compiled template %s not used: %s", bucket.key, error)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError as error:  # a full disk, a folder made read-only meanwhile: the next run compiles
            log.debug("compiled template %s not kept: %s", bucket.key, error)


def code_fingerprint(code_files: Iterable[Path]) -> str:
    """What the compiled code depends on besides the template's source and Python's version (which
    Jinja's files carry): Jinja's version and the source of the code that compiles."""
    digest = hashlib.sha256(f"{jinja2.__version__}|{sys.version}".encode())
    for path in code_files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def template_cache(kind: str, code_files: Iterable[Path]) -> jinja2.BytecodeCache | None:
    """The cache of compiled templates for one kind of environment ("text", "html": each compiles the
    same files differently), or None when no private folder can be had."""
    folder = cache_dir() / "templates" / code_fingerprint(code_files)
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        found = folder.lstat()
    except OSError as error:  # a read-only home, no home: every run compiles
        log.debug("compiled templates not kept: cannot make %s (%s)", folder, error)
        return None
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or stat.S_IMODE(found.st_mode) & 0o077:
        # Compiled code from a folder others can write to would run as this user.
        log.warning("compiled templates not kept: %s is not a folder only this user can use; remove it "
                    "or set DUNNING_CACHE_DIR to a private folder", folder)
        return None
    return _TemplateFiles(str(folder), f"{kind}-%s.cache")
