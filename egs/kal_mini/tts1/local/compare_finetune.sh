#!/usr/bin/env bash
# Is fine-tuning a trained voice better than training from scratch on a new voice's data?
# Makes the kal corpus (stage -1/0: the 3,000 sentences of slt_mini's list, split like it,
# so kal's eval texts are the ones the slt voice never trained on), then for each size of
# --sizes trains two runs on the first N train utterances for the same --steps at the same
# --precision (so the same cost per step): fine-tuned from --base (conf/tuning/finetune.yaml,
# its token list and front-end) and from scratch (conf/train.yaml, the base's own config,
# with the same token list). Each is decoded from its best.pth (by dev loss) and scored on
# the first --n_eval eval utterances (stages 5-7, HiFi-GAN). Prints one JSON object (per run:
# training time, best dev loss, WER of the synthesized and of the reference speech, MCD
# against the kal recordings; per size: the paired-bootstrap WER difference
# scratch - finetuned) and writes the learning curves (dev loss against step) to
# exp/compare_finetune.png. The source voice itself, not fine-tuned, is scored on the same
# eval set as the starting point (exp/base_unadapted, a copy of --base's best.pth).
# Every step resumes or redoes itself, and a run whose report is newer than its best.pth is
# not scored again, so the script can be stopped and started again.
#   local/compare_finetune.sh --base ../../slt_mini/tts1/exp/train_cpu_phn > exp/compare_finetune.json
set -euo pipefail
cd "$(dirname "$0")/.."

main() {  # bash reads a function whole: editing this file cannot derail a running comparison
base=../../slt_mini/tts1/exp/train_cpu_phn  # the trained voice to fine-tune (exp dir)
sizes="100 300"      # training utterances: the first N of the train set
n_sentences=3000     # kal corpus size (stage -1): slt_mini's list and split
n_dev=50             # dev utterances (the first N of dev): learning curves and best.pth
n_eval=100           # eval utterances scored (the first N of eval)
steps=1500           # optimizer steps of every run
precision=auto       # of every run (auto: bf16 on CPUs with native bf16)
eval_args="--mos false --vocoders="   # stage 7: WER of the stage-6 (HiFi-GAN) audio
# both runs: a dev pass every 50 steps, not after every epoch (100 utterances make a 5-step
# epoch: a dev pass per epoch would cost more than the training)
dev_every="--eval_interval_steps 50 --eval_every_epoch false"
help_message="Usage: $0 [--base EXP] [--sizes '100 300'] [--steps N] [--precision P] [--n_dev N] [--n_eval N] [--n_sentences N] [--eval_args '...']"
. utils/parse_options.sh
. ./path.sh
if [ ! -f "$base/tokens.txt" ] || [ ! -f "$base/config.yaml" ]; then
  echo "$0: error: --base $base is not a trained experiment dir (tokens.txt, config.yaml):" \
    "train one with egs/slt_mini/tts1 (see its conf/tuning/train_cpu.yaml)" >&2
  exit 1
fi

if [ ! -s data/eval/text ] || [ ! -s data/train/text ]; then
  ./run.sh --n_sentences "$n_sentences" --stage -1 --stop_stage 0 >&2
fi
subset() {  # subset <src set> <N> <dst set>: the first N utterances
  [ -s "data/$3/text" ] || utils/subset_data_dir.sh --first "data/$1" "$2" "data/$3" >&2
}
scored() {  # scored <tag>: its report.json has $eval and is newer than its best.pth
  [ "exp/$1/report.json" -nt "exp/$1/checkpoints/best.pth" ] &&
    grep -q "\"$eval\"" "exp/$1/report.json"
}
dev=dev$n_dev eval=eval$n_eval
subset dev "$n_dev" "$dev"
subset eval "$n_eval" "$eval"
tags=()
for n in $sizes; do
  subset train "$n" "train$n"
  sets=(--train_set "train$n" --dev_set "$dev" --eval_sets "$eval")
  # features, and token ids from the base voice's list (the same ids for both runs)
  ./run.sh --stage 1 --stop_stage 2 "${sets[@]}" --token_list "$base/tokens.txt" >&2
  for init in finetune scratch; do
    tag=${init}_train$n
    tags+=("$tag")
    opts=(--train_config conf/train.yaml)
    [ "$init" = scratch ] || opts=(--train_config conf/tuning/finetune.yaml --init_from "$base")
    ./run.sh --stage 3 --stop_stage 3 "${sets[@]}" "${opts[@]}" --tag "$tag" \
      --train_args "--max_steps $steps --precision $precision $dev_every" >&2
    scored "$tag" || ./run.sh --stage 5 --stop_stage 7 "${sets[@]}" "${opts[@]}" --tag "$tag" \
      --vocoder auto --eval_args "$eval_args" >&2
  done
done

# the source voice as it is, scored on the same eval set: where fine-tuning starts from, so
# the NLL and MCD against the kal recordings show how far the runs moved to the new voice
src=base_unadapted
if [ ! -f "exp/$src/checkpoints/best.pth" ]; then
  mkdir -p "exp/$src/checkpoints"
  # the files that describe an experiment's checkpoints, and its front-end's model files
  for f in $(python -c "from glowtts.train.resume import EXPERIMENT_FILES as E
from glowtts.text.frontend import BPE_FILE, LEXICON_FILE
print(*E, BPE_FILE, LEXICON_FILE)"); do
    [ ! -f "$base/$f" ] || cp "$base/$f" "exp/$src/"
  done
  cp "$base/checkpoints/best.pth" "exp/$src/checkpoints/"
fi
scored "$src" || ./run.sh --stage 5 --stop_stage 7 --eval_sets "$eval" --tag "$src" \
  --train_config conf/tuning/finetune.yaml --vocoder auto --eval_args "$eval_args" >&2

python - "$eval" "$src" "${tags[@]}" <<'EOF'
import json, re, subprocess, sys
from datetime import datetime

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

eval_set, src, tags = sys.argv[1], sys.argv[2], sys.argv[3:]
stamp = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ \w+ \[glowtts.train\] ")

# the lines a glowtts-train process starts with (a new, a resumed or a fine-tuning run)
PROCESS_START = ("] resuming ", "] no checkpoint in ", "] model: ", "] resumed from ")

def train_time(tag):
    """Seconds between consecutive train.log lines of one process: the pause of a stopped
    and resumed run (or a finished one started again) is not counted."""
    total, prev = 0.0, None
    for line in open(f"exp/{tag}/train.log"):
        if any(k in line for k in PROCESS_START):
            prev = None
        m = stamp.match(line)
        if m:
            t = datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S")
            if prev is not None:
                total += (t - prev).total_seconds()
            prev = t
    return total

def scores(tag):
    """The stage-7 figures of one exp dir on the eval set."""
    report = json.load(open(f"exp/{tag}/report.json"))["sets"][eval_set]
    wer, mcd = report["wer"]["all"], report["mcd"]
    return {
        "wer_synth": wer["synth"]["wer"], "wer_ref": wer["ref"]["wer"],
        # how close to the kal recordings: WER alone cannot say (the slt voice the
        # fine-tuning starts from is easier for the recogniser than kal itself)
        "nll": report["nll"]["nll_per_frame_channel"],
        "mcd_db": mcd["mean"], "length_ratio": mcd["length_ratio_mean"],
        "duration_pearson_r": report["durations"]["pearson_r"],
        "vocoder": open(f"exp/{tag}/decode_{eval_set}/wav/vocoder").read().strip(),
    }

out, curves = {"eval_set": eval_set, "source": {src: scores(src)}, "runs": {}, "wer": {}}, {}
for tag in tags:
    rows = [json.loads(line) for line in open(f"exp/{tag}/loss.jsonl")]
    dev = [r for r in rows if r.get("split") == "dev"]
    best = min(dev, key=lambda r: r["loss"])
    out["runs"][tag] = {
        "steps": max(r["step"] for r in rows), "train_seconds": round(train_time(tag)),
        "best_dev": {"step": best["step"], "loss": best["loss"]}, **scores(tag),
    }
    curves[tag] = ([r["step"] for r in dev], [r["loss"] for r in dev])
for ft in (t for t in tags if t.startswith("finetune_")):
    sc = "scratch_" + ft.split("_", 1)[1]
    res = subprocess.run(["glowtts-compare-wer", f"exp/{ft}/report.json",
                          f"exp/{sc}/report.json", "--set", eval_set],
                         capture_output=True, text=True, check=True)
    out["wer"][f"{sc} - {ft}"] = json.loads(res.stdout)
fig, ax = plt.subplots(figsize=(7, 4.5))
for tag, (x, y) in curves.items():
    ax.plot(x, y, ("-" if tag.startswith("finetune") else "--"), label=tag)
ax.set_xlabel("step (same cost per step for every run)")
ax.set_ylabel("dev loss (MLE + duration)")
ax.set_title("kal_diphone: fine-tuned from the slt voice vs from scratch")
ax.legend()
fig.tight_layout()
fig.savefig("exp/compare_finetune.png", dpi=100)
out["plot"] = "exp/compare_finetune.png"
print(json.dumps(out, indent=1))
EOF
}
main "$@"
