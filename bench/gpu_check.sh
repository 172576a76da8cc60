#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU, in under 8 minutes,
#   1. the kernel tests with the CUDA paths active (compiled Triton and FlexAttention),
#   2. the smoke preset of the quickstart and transformer_pde studies (needs papermill),
#   3. the training-step bench in bf16,
# writing every log and result into one folder.
# Usage: bench/gpu_check.sh [OUT]   (default OUT: outputs/bench/gpu-<time>)
# PY names the interpreter (default: .venv/bin/python, else python3); atelier is imported from lib/,
# so a GPU machine's own PyTorch environment works without `make setup` (polars is the one extra).
# Exit status: 0 when every step that ran passed, 1 otherwise.
set -euo pipefail

cd "$(dirname "$0")/.."
OUT="${1:-outputs/bench/gpu-$(date +%Y%m%d-%H%M%S)}"
PY="${PY:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}"
export PYTHONPATH="$PWD/lib:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
mkdir -p "$OUT"
SUMMARY="$OUT/summary.txt"
: > "$SUMMARY"
failed=0

# step NAME SECONDS CMD...: runs CMD under a time limit, logs to $OUT/NAME.log, records the outcome.
step() {
    local name=$1 limit=$2 start rc=0
    shift 2
    echo "[gpu_check] $name: starting (limit ${limit}s, log $OUT/$name.log)"
    start=$(date +%s)
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1 || rc=$?
    local line="$name: $([ "$rc" -eq 0 ] && echo ok || echo "FAILED (exit $rc$([ "$rc" -eq 124 ] && echo ', timed out'))") in $(( $(date +%s) - start ))s"
    echo "[gpu_check] $line"
    echo "$line" >> "$SUMMARY"
    if [ "$rc" -ne 0 ]; then
        failed=1
        tail -n 20 "$OUT/$name.log"
    fi
}

skip() {
    echo "[gpu_check] $1: skipped ($2)"
    echo "$1: skipped ($2)" >> "$SUMMARY"
}

echo "[gpu_check] results go to $OUT"
if ! command -v nvidia-smi > /dev/null || ! "$PY" -c "import torch, sys; sys.exit(not torch.cuda.is_available())"; then
    echo "[gpu_check] no CUDA device visible to torch: this check needs an NVIDIA GPU" | tee -a "$SUMMARY"
    exit 1
fi
{ nvidia-smi; "$PY" -c "import torch, triton; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'triton', triton.__version__, torch.cuda.get_device_name(0))"; } > "$OUT/device.txt" 2>&1
echo "[gpu_check] device: $(tail -n 1 "$OUT/device.txt")"

# 1. Kernel tests: TRITON_INTERPRET=0 so the kernels are compiled for the GPU, not interpreted.
step kernel_tests 180 env TRITON_INTERPRET=0 "$PY" -m pytest tests/kernels -q -p no:cacheprovider \
    -rs --junitxml="$OUT/kernel_tests.xml"

# 2. Smoke runs of the studies that have a notebook.
studies=()
for study in quickstart transformer_pde; do
    if compgen -G "notebooks/[0-9][0-9]_${study}.ipynb" > /dev/null; then
        studies+=("$study")
    else
        skip "smoke_$study" "no notebook for $study"
    fi
done
if [ "${#studies[@]}" -gt 0 ] && ! "$PY" -c "import papermill" 2> /dev/null; then
    skip smoke_studies "papermill is not installed for $PY"
elif [ "${#studies[@]}" -gt 0 ]; then
    step smoke_studies 180 "$PY" -m atelier run "${studies[@]}" --preset smoke --force --out "$OUT/runs"
fi

# 3. The training-step bench in bf16 (largest size first; each measurement is also printed as it lands).
step train_step_bf16 "${TRAIN_STEP_LIMIT:-300}" "$PY" -m bench.train_step --dtype bf16 --out "$OUT/train_step"

echo "[gpu_check] summary ($SUMMARY):"
cat "$SUMMARY"
exit "$failed"
