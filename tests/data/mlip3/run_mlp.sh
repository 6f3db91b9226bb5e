#!/usr/bin/env bash
# Run MLIP-3's mlp on the inputs made by make_inputs.py (README.md). Uses $SEILEARN_MLP, else mlp on PATH.
# It never builds mlp: build MLIP-3 outside this repository and point SEILEARN_MLP at the binary.
set -euo pipefail
MLP=${SEILEARN_MLP:-mlp}
ROOT=${1:-$(cd "$(dirname "$0")" && pwd)}
NBH="--site_en_weight=1 --energy_weight=0 --weight_scaling=2"
CFG="--energy_weight=1 --site_en_weight=0 --weight_scaling=2"
for set in li lpscl; do
  cd "$ROOT/$set"
  probe=$([ "$set" = li ] && echo probe.cfg || echo candidates.cfg)
  "$MLP" calculate_efs pot.mtp "$probe" --output_filename=efs.cfg
  "$MLP" select pot.mtp train.cfg $NBH --save_to=pot.almtp
  "$MLP" select pot.mtp train.cfg $CFG --save_to=pot_cfg.almtp
  "$MLP" calculate_grade pot.almtp "$probe" graded.cfg
  "$MLP" calculate_grade pot_cfg.almtp "$probe" graded_cfg.cfg
  "$MLP" select_add pot.almtp train.cfg candidates.cfg selected.cfg
  "$MLP" select_add pot_cfg.almtp train.cfg candidates.cfg selected_cfg.cfg
done
# the Li-P-S-Cl active sets (269 x 269 matrices, ~1.2 MB each) are not kept: the tests rebuild them
rm -f "$ROOT/lpscl/pot.almtp" "$ROOT/lpscl/pot_cfg.almtp"
