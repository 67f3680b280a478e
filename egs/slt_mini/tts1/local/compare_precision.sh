#!/usr/bin/env bash
# Does bf16 keep the voice? Training: trains --config for --steps steps three times, at the
# config's precision (auto: bf16 autocast on CPUs with native bf16) with the first seed and
# in fp32 with every seed of --seeds, then decodes (fp32) and scores each run's checkpoint
# of that step on the first --eval_max_utts utterances of --eval_set (stages 5-7).
# Inference: decodes the first fp32 run's checkpoint again in bf16 (--decode_tag bf16) and
# scores it the same way. Prints one JSON object: each run's dev loss at that step, the
# spread of the fp32 seeds, and paired-bootstrap WER differences (glowtts-compare-wer) of
# every training pair and of bf16 against fp32 inference.
# Needs stages -1..2 of ./run.sh (corpus, features, tokens). Trainings resume and a report
# made from the same checkpoint is kept, so the script can be stopped and started again.
#   local/compare_precision.sh --steps 1000 > exp/compare_precision.json
set -euo pipefail
cd "$(dirname "$0")/.."

main() {  # bash reads a function whole: editing this file cannot derail a running comparison
steps=1000
seeds="1234 1235"
config=conf/tuning/train_cpu.yaml
eval_set=eval
eval_max_utts=100
eval_args="--mos false --vocoders="   # stage 7: WER of the stage-6 (HiFi-GAN) audio only
prefix=precision     # exp/<prefix>_<precision>_seed<seed>
help_message="Usage: $0 [--steps N] [--seeds 'S1 S2'] [--config YAML] [--eval_set SET] [--eval_max_utts N] [--eval_args '...'] [--prefix NAME]"
. utils/parse_options.sh
. ./path.sh

# decode and vocode only the utterances that are scored: a subset set of the first N
sub=$eval_set
if [ "$eval_max_utts" -gt 0 ]; then
  sub=${eval_set}_first$eval_max_utts
  if [ ! -s "dump/$sub/token" ]; then
    utils/subset_data_dir.sh --first "data/$eval_set" "$eval_max_utts" "data/$sub" >&2
    mkdir -p "dump/$sub"
    for f in feats.scp token utt2num_frames; do
      awk 'NR == FNR { keep[$1]; next } $1 in keep' "data/$sub/text" "dump/$eval_set/$f" \
        >"dump/$sub/$f"
    done
  fi
fi

first_seed=${seeds%% *}
runs=("auto:$first_seed")
for s in $seeds; do runs+=("fp32:$s"); done
ckpt=$(printf 'step_%08d.pth' "$steps")
scored() {  # scored <report.json>: it exists and scored $sub with the step-$steps checkpoint
  [ -s "$1" ] && python -c 'import json, sys; r = json.load(open(sys.argv[1]))
sys.exit(not (r.get("checkpoint", "").endswith(sys.argv[2]) and sys.argv[3] in r["sets"]))' \
    "$1" "$ckpt" "$sub"
}
score=(--eval_sets "$sub" --vocoder auto --eval_args "$eval_args")  # auto: HiFi-GAN universal where installed
for run in "${runs[@]}"; do
  precision=${run%%:*} seed=${run##*:}
  tag=${prefix}_${precision}_seed$seed
  ./run.sh --stage 3 --stop_stage 3 --train_config "$config" --tag "$tag" \
    --train_args "--precision $precision --seed $seed --max_steps $steps" >&2
  scored "exp/$tag/report.json" || ./run.sh --stage 5 --stop_stage 7 --train_config "$config" \
    --tag "$tag" --checkpoint "exp/$tag/checkpoints/$ckpt" "${score[@]}" >&2
done
fp32_tag=${prefix}_fp32_seed$first_seed
scored "exp/$fp32_tag/report_bf16.json" || ./run.sh --stage 5 --stop_stage 7 \
  --train_config "$config" --tag "$fp32_tag" --checkpoint "exp/$fp32_tag/checkpoints/$ckpt" \
  "${score[@]}" --decode_tag bf16 --decode_args "--precision bf16" >&2

python - "$prefix" "$steps" "$sub" "$fp32_tag" "${runs[@]}" <<'EOF'
import json, subprocess, sys
prefix, steps, sub, fp32_tag = sys.argv[1:5]
steps, runs = int(steps), sys.argv[5:]
tags = [f"{prefix}_{r.split(':')[0]}_seed{r.split(':')[1]}" for r in runs]

def dev_loss(tag):
    rows = [json.loads(line) for line in open(f"exp/{tag}/loss.jsonl")]
    at = [r for r in rows if r.get("split") == "dev" and r["step"] == steps]
    return {k: at[-1][k] for k in ("loss", "mle_loss", "dur_loss")} if at else None

def compare(a, b):
    res = subprocess.run(["glowtts-compare-wer", a, b, "--set", sub],
                         capture_output=True, text=True, check=True)
    return json.loads(res.stdout)

def mcd(report):
    return json.load(open(report))["sets"][sub]["mcd"].get("mean")

dev = {t: dev_loss(t) for t in tags}
fp32 = [dev[t]["loss"] for t in tags[1:] if dev[t]]
out = {"steps": steps, "eval_set": sub, "dev": dev,
       "fp32_seed_spread": max(fp32) - min(fp32) if len(fp32) > 1 else None}
if dev[tags[0]] and len(fp32) > 1:
    out["auto_within_fp32_spread"] = min(fp32) <= dev[tags[0]]["loss"] <= max(fp32)
    out["auto_minus_fp32_mean"] = dev[tags[0]]["loss"] - sum(fp32) / len(fp32)
out["mcd_db"] = {t: mcd(f"exp/{t}/report.json") for t in tags}
out["vocoder"] = {t: open(f"exp/{t}/decode_{sub}/wav/vocoder").read().strip() for t in tags}
out["wer"] = {f"{b} - {a}": compare(f"exp/{a}/report.json", f"exp/{b}/report.json")
              for i, a in enumerate(tags) for b in tags[i + 1:]}
fp32_rep, bf16_rep = f"exp/{fp32_tag}/report.json", f"exp/{fp32_tag}/report_bf16.json"
out["inference"] = {"model": fp32_tag, "mcd_db": {"fp32": mcd(fp32_rep), "bf16": mcd(bf16_rep)},
                    "wer bf16 - fp32": compare(fp32_rep, bf16_rep)}
print(json.dumps(out, indent=1))
EOF
}
main "$@"
