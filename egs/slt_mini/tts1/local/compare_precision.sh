#!/usr/bin/env bash
# Does `precision: auto` (bf16 autocast on CPUs with native bf16) train the CPU voice as
# well as fp32? Trains --config for --steps steps three times: at the config's precision
# (auto) with the first seed, and in fp32 with every seed of --seeds; then decodes and
# scores each run's checkpoint of that step (stages 5-7 on --eval_set, Griffin-Lim and
# HiFi-GAN, --eval_max_utts utterances) and prints one JSON object: each run's dev loss at
# that step, the spread of the fp32 seeds, and paired-bootstrap WER differences
# (glowtts-compare-wer) of each pair.
# Needs stages -1..2 of ./run.sh (corpus, features, tokens). Each run resumes where it
# stopped, so the script can be stopped and started again.
#   local/compare_precision.sh --steps 2000
set -euo pipefail
cd "$(dirname "$0")/.."
steps=2000
seeds="1234 1235"
config=conf/tuning/train_cpu.yaml
eval_set=eval
eval_max_utts=100
prefix=precision     # exp/<prefix>_<precision>_seed<seed>
help_message="Usage: $0 [--steps N] [--seeds 'S1 S2'] [--config YAML] [--eval_set SET] [--eval_max_utts N] [--prefix NAME]"
. utils/parse_options.sh
. ./path.sh

first_seed=${seeds%% *}
runs=("auto:$first_seed")
for s in $seeds; do runs+=("fp32:$s"); done
ckpt=$(printf 'step_%08d.pth' "$steps")
for run in "${runs[@]}"; do
  precision=${run%%:*} seed=${run##*:}
  tag=${prefix}_${precision}_seed$seed
  ./run.sh --stage 3 --stop_stage 3 --train_config "$config" --tag "$tag" \
    --train_args "--precision $precision --seed $seed --max_steps $steps"
  ./run.sh --stage 5 --stop_stage 7 --train_config "$config" --tag "$tag" \
    --checkpoint "exp/$tag/checkpoints/$ckpt" --eval_sets "$eval_set" \
    --eval_max_utts "$eval_max_utts"
done

python - "$prefix" "$steps" "$eval_set" "${runs[@]}" <<'EOF'
import json, subprocess, sys
prefix, steps, eval_set, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
tags = [f"{prefix}_{r.split(':')[0]}_seed{r.split(':')[1]}" for r in runs]
dev = {}
for tag in tags:
    rows = [json.loads(line) for line in open(f"exp/{tag}/loss.jsonl")]
    at = [r for r in rows if r.get("split") == "dev" and r["step"] == steps]
    dev[tag] = at[-1]["loss"] if at else None
fp32 = [dev[t] for t in tags[1:] if dev[t] is not None]
out = {"steps": steps, "dev_loss": dev,
       "fp32_seed_spread": max(fp32) - min(fp32) if len(fp32) > 1 else None, "wer": {}}
for i, a in enumerate(tags):
    for b in tags[i + 1:]:
        res = subprocess.run(["glowtts-compare-wer", f"exp/{a}/report.json",
                              f"exp/{b}/report.json", "--set", eval_set],
                             capture_output=True, text=True, check=True)
        out["wer"][f"{b} - {a}"] = json.loads(res.stdout)
print(json.dumps(out, indent=1))
EOF
