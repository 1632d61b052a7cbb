#!/usr/bin/env bash
# Every GPU path of mmsearch against the CPU on this machine (FAISS GPU and torch CUDA search,
# fp16 CLIP and lite embedding, faster-whisper float16). Runs unchanged anywhere: on a machine
# without a GPU each check prints "skip ... no GPU" and the script exits 0.
#   scripts/gpu_check.sh            (uses .venv/bin/python when present, else $PYTHON or python3)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
python="${PYTHON:-}"
if [[ -z "$python" ]]; then
  if [[ -x "$here/.venv/bin/python" ]]; then python="$here/.venv/bin/python"; else python="python3"; fi
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not found (no GPU driver on this machine)"
export HF_HUB_OFFLINE=1 PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
exec "$python" "$here/scripts/gpu_check.py"
