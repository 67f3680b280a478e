#!/usr/bin/env bash
# `make demo`: the whole slt_mini recipe on a CPU (corpus, features, tokens, training,
# decoding, HiFi-GAN (Griffin-Lim where it is not installed), report), then a short summary
# of where the outputs are and one synthesized wav with its scores.
set -euo pipefail
cd "$(dirname "$0")"
start=$(date +%s)
# the report scores 10 utterances per set: pocketsphinx is the slow part
./run.sh --eval_max_utts 10 "$@"
exp=exp/train_char
secs=$(( $(date +%s) - start ))
cat <<EOM

================================================================ glowtts demo
finished in $((secs / 60)) min $((secs % 60)) s. Everything is under $(pwd):
  corpus (Festival slt voice, 22.05 kHz)   downloads/slt_mini/{metadata.csv,wavs/}
  Kaldi data dirs                          data/{train,dev,eval}/
  log-mel features, token ids              dump/<set>/{feats.scp,token}, dump/train/stats.npy
  experiment (config, version, ckpts)      $exp/{config.yaml,version.json,checkpoints/,train.log}
  loss curves and alignments               $exp/images/
  decoded mels + durations                 $exp/decode_{dev,eval}/{feats.scp,durations,timing}
  waveforms (vocoder named in wav/vocoder) $exp/decode_eval/wav/*.wav
  report (WER, DistillMOS, both vocoders)  $exp/report.md
The demo model is small and trained for minutes: it aligns but babbles. For a real voice
on this CPU (2-3 h on 2 cores; WER 1.3-1.4x the Festival recordings', see README Results):
  ./run.sh --n_sentences 3000 --n_long 40 --train_config conf/tuning/train_cpu.yaml
with a GPU:
  ./run.sh --n_sentences 3000 --n_long 40 --train_config conf/tuning/train_gpu.yaml --ngpu 1
EOM

# one synthesized eval sentence and what stage 7 measured on the eval set
. ./path.sh
python - "$exp" <<'EOPY'
import json, sys
from pathlib import Path

exp = Path(sys.argv[1])
res = json.loads((exp / "report.json").read_text())["sets"]["eval"]
voc = res.get("vocoders", {})
name = voc.get("stage6", "unknown")
wer, mos = res.get("wer", {}), res.get("mos", {})


def wer_of(system):
    v = (wer.get("all") or {}).get(system)
    return f"{100 * v['wer']:.1f} %" if v else wer.get("status", "n/a")


def mos_of(system):
    v = mos.get(system)
    return f"{v['mean']:.2f} ± {v['std']:.2f}" if v else mos.get("status", "n/a")


utt = sorted(wer.get("hyps") or [""])[0]
print(f"listen: {exp}/decode_eval/wav/{utt}.wav  (vocoder: {name})")
print(f"  {'eval set, ' + str(res['n_utts']) + ' utts':<25}     WER  DistillMOS")
for system, label in (
    ("synth_hifigan", "synthesized, HiFi-GAN"),
    ("synth_griffin_lim", "synthesized, Griffin-Lim"),
    ("ref", "Festival recordings"),
):
    skipped = voc.get(system.replace("synth_", ""), "ok")
    if system != "ref" and skipped != "ok":
        print(f"  {label:<25} {skipped}")
    else:
        print(f"  {label:<25} {wer_of(system):>7}  {mos_of(system)}")
EOPY
