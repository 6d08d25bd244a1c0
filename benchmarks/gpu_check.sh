#!/usr/bin/env bash
# The prepared GPU check: one command on a machine with a GPU, a few minutes with its installs.
#   bash benchmarks/gpu_check.sh OUT_FOLDER [--device cpu] [--quick]
# Uses this repo's .venv if there is one, else the python3 on PATH (a GPU machine's own, with
# its CUDA build of torch, which is never replaced). longseq and its other dependencies are
# installed into that Python if missing: from the package index, or offline from wheels in
# $WHEELS (pip download them beforehand). Prints the figures and writes them to OUT_FOLDER.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bash benchmarks/gpu_check.sh OUT_FOLDER [--device cpu] [--quick]}
shift
python=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
started=$(date +%s)
if ! "$python" -c "import longseq, snakemake, optuna" 2>/dev/null; then
  echo "installing longseq into $("$python" -c 'import sys; print(sys.prefix)') (torch kept as it is)"
  if [ -n "${WHEELS:-}" ]; then
    "$python" -m pip install -q --no-index --find-links "$WHEELS" -e .
  else
    "$python" -m pip install -q -e .
  fi
fi
echo "install: $(( $(date +%s) - started )) s"
mkdir -p "$out"
PATH="$(dirname "$(command -v "$python")"):$PATH" "$python" benchmarks/gpu_check.py "$out" "$@"
echo "gpu check: $(( $(date +%s) - started )) s in all; figures in $out/gpu_check.txt"
