#!/usr/bin/env bash
# Set up .venv if needed, lint with ruff, then run the test suite (slow tests excluded; pass -m slow to run them).
# System packages (Debian's chromium, docker-compose, slurm-wlm and munge) are installed only when asked:
#   SEILEARN_TEST_SYSTEM_PACKAGES=1 bash scripts/test.sh     (as root; CI does this)
# Without them the browser, compose and real-SLURM tests skip and say how to enable them.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup_venv.sh || exit 1
if [ "${SEILEARN_TEST_SYSTEM_PACKAGES:-0}" = 1 ]; then
  want=()
  command -v docker-compose >/dev/null 2>&1 || want+=(docker-compose)
  command -v chromium >/dev/null 2>&1 || want+=(chromium)
  command -v slurmctld >/dev/null 2>&1 || want+=(slurm-wlm)
  command -v munged >/dev/null 2>&1 || want+=(munge)
  if [ "${#want[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "[test] installing system packages for the optional tests: ${want[*]}" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}") \
        >/dev/null 2>&1 || echo "[test] could not install ${want[*]}; those tests will skip and say why" >&2
    else
      echo "[test] SEILEARN_TEST_SYSTEM_PACKAGES=1 needs root and apt-get; the tests needing ${want[*]} will skip" >&2
    fi
  fi
fi
.venv/bin/ruff check . || { echo "test.sh: ruff found problems (fix them, or see \`.venv/bin/ruff check --fix .\`)" >&2; exit 1; }
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "test.sh: pytest collected no tests: that is a failure, not a pass" >&2
  exit 1
fi
exit "$rc"
