#!/usr/bin/env bash
# Every GPU check in one run, for a machine with an NVIDIA GPU (the project's own commands only):
# the engine on CUDA in half precision (speed, peak memory, memory given back, CPU-GPU parity,
# quality mode), the assistant's encoder and writer on CUDA (parity with the CPU, speed, memory), then
# jobs through the real stack (artstudio-serve: a worker that picks CUDA).
# Usage: bash bench/gpu_check.sh   (after the README's install; prints figures, exits 1 on a failure)
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not found"
status=0
timeout 420 "$PY" bench/gpu_check.py "$@" || status=1
timeout 180 "$PY" bench/assistant.py --gpu || status=1
timeout 240 "$PY" bench/e2e.py --jobs 5 || status=1
exit $status
