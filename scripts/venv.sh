# Sourced by scripts/demo and scripts/test: create, or reuse, the project's virtual environment in .venv.
# POSIX sh on purpose: a fresh machine has python3 and a shell, not necessarily make.
set -eu
root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
cd "$root"
python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "dunning-connector needs Python 3.11 or newer: '$python' is missing or older." >&2
    echo "Install Python 3.11+ or point PYTHON at it, e.g. PYTHON=python3.12 $0" >&2
    exit 2
fi
# Reinstall only when the dependencies changed (the stamp holds a copy of pyproject.toml);
# the install is editable, so edits to the code need no reinstall.
stamp=.venv/.installed-pyproject.toml
if [ ! -x .venv/bin/python ] || ! cmp -s pyproject.toml "$stamp"; then
    echo "Preparing .venv (once; again only when pyproject.toml changes)..." >&2
    "$python" -m venv .venv
    .venv/bin/python -m pip install --quiet -e '.[test]'
    cp pyproject.toml "$stamp"
fi
