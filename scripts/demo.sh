#!/usr/bin/env bash
# The main job: set up .venv if needed, then run the small end-to-end active-learning campaign of
# workflows/examples/lpsc_li_local.yaml on the embedded store (Ctrl-C and run again to resume): seed set,
# threshold stages, the exploration ladder up to the production's length, a 10-ps production at 400 K on the
# mini interface (grade-watched, relearning if it extrapolates), its analysis and the validation on production
# frames. Ends with the command that exports the potential.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup_venv.sh || exit 1
spec="${1:-workflows/examples/lpsc_li_local.yaml}"
t0=$(date +%s)
.venv/bin/seilearn campaign run "$spec" --rockets "${SEILEARN_ROCKETS:-2}"
rc=$?
name=$(.venv/bin/python -c "import sys; from seilearn.workflows.spec import load_spec; print(load_spec(sys.argv[1]).name)" "$spec")
echo "[seilearn] main job: $(( $(date +%s) - t0 )) s"
if [ "$rc" -eq 0 ]; then
  echo "[seilearn] take the potential to a cluster (.mtp, .almtp, training set, card, LAMMPS snippets):"
  echo "    .venv/bin/seilearn potential export --campaign $name --out ${name}-potential"
  echo "[seilearn] and run it here:  .venv/bin/seilearn md produce interface-mini ${name}-potential/<id>.mtp --steps 10000 --temperature 400"
fi
exit "$rc"
