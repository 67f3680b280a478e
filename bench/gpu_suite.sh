#!/usr/bin/env bash
# Run the CUDA tests and the GPU benchmarks on a CUDA machine; results go to <out_dir>.
#
# Usage: bench/gpu_suite.sh [--quick] <out_dir>
#
# Writes <out_dir>/pytest_cuda.log (the tests that need CUDA or Triton), and one JSON
# per benchmark: train_step_<variant>.json (official config, batch 32; variants:
# eager_gate = the WaveNet gate as eager ops, fused = fused Triton gate, bf16,
# compile_default and compile_reduce_overhead = train.compile modes), mas.json and
# infer.json, plus summary.json (frames/s of every train_step variant). --quick runs
# only the tests, eager_gate, fused and compile_reduce_overhead. Each step has its own
# time limit (SUITE_TIMEOUT seconds, default 300), so one hang does not eat the rest.
# Run it from the repository root after `make install` (or with the package importable
# and the MAS extension built: `python setup.py build_ext --inplace`).
set -uo pipefail

quick=false
if [ "${1:-}" = --quick ]; then quick=true; shift; fi
if [ $# -ne 1 ]; then
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  echo "$0: error: expected <out_dir>" >&2
  exit 1
fi
mkdir -p "$1" && out=$(cd "$1" && pwd -P) || exit 1
cd "$(dirname "$0")/.." || exit 1
py=${PYTHON:-python3}
limit=${SUITE_TIMEOUT:-300}
status=0

step() {  # step NAME COMMAND...: run with a time limit, log, remember a failure
  local name=$1 t0 rc; shift
  t0=$(date +%s)
  timeout "${limit}" "$@" > "${out}/${name}.out" 2> "${out}/${name}.err"
  rc=$?
  echo "$(date +%T) ${name}: rc=${rc} in $(( $(date +%s) - t0 )) s" | tee -a "${out}/suite.log"
  [ ${rc} -eq 0 ] || status=1
  return 0
}

"${py}" -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; \
print(torch.__version__, torch.cuda.get_device_name())" | tee "${out}/suite.log" || exit 1

step pytest_cuda "${py}" -m pytest -q -rs -p no:cacheprovider \
  tests/train/test_cuda.py tests/train/test_schedule.py tests/nets/test_gate.py \
  tests/monotonic_align/test_mas_gpu.py tests/synthesis/test_cuda_graphs.py
mv "${out}/pytest_cuda.out" "${out}/pytest_cuda.log"

ts=("${py}" bench/train_step.py --device cuda)
step train_step_eager_gate "${ts[@]}" --precisions fp32 --eager-gate
step train_step_fused "${ts[@]}" --precisions fp32
step train_step_compile_reduce_overhead "${ts[@]}" --precisions fp32 --compile reduce-overhead \
  --warmup 3
if [ "${quick}" = false ]; then
  step train_step_bf16 "${ts[@]}" --precisions bf16
  step train_step_compile_default "${ts[@]}" --precisions fp32 --compile default --warmup 3
  step mas "${py}" bench/mas.py --device cuda
  step infer "${py}" bench/infer.py --device cuda --skip_cpu
fi
for f in "${out}"/*.out; do mv "$f" "${f%.out}.json"; done

"${py}" - "${out}" <<'EOF'
import json, pathlib, sys
out = pathlib.Path(sys.argv[1])
summary = {}
for f in sorted(out.glob("train_step_*.json")):
    try:
        for key, r in json.loads(f.read_text())["results"].items():
            summary[f"{f.stem[len('train_step_'):]}:{key}"] = {
                k: r.get(k) for k in ("step_time_s", "frames_per_s", "peak_memory_mib", "error")
            }
    except (ValueError, KeyError) as e:
        summary[f.stem] = {"error": f"unreadable: {e}"}
(out / "summary.json").write_text(json.dumps(summary, indent=2))
print(json.dumps(summary, indent=2))
EOF
exit ${status}
