#!/usr/bin/env bash
# The main job: set up .venv if needed, then run the small end-to-end active-learning campaign of
# workflows/examples/lpsc_li_local.yaml on the embedded store (Ctrl-C and run again to resume).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup_venv.sh || exit 1
spec="${1:-workflows/examples/lpsc_li_local.yaml}"
exec .venv/bin/seilearn campaign run "$spec" --rockets "${SEILEARN_ROCKETS:-2}"
