#!/usr/bin/env bash
# `make demo`: the whole slt_mini recipe on a CPU (corpus, features, tokens, training,
# decoding, Griffin-Lim), then a short summary of where the outputs are.
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
  waveforms (Griffin-Lim)                  $exp/decode_eval/wav/*.wav
The demo model is small and trained for minutes: it aligns but babbles. For a real voice
on this CPU (2-3 h on 2 cores; WER 1.3-1.4x the Festival recordings', see README Results):
  ./run.sh --n_sentences 3000 --n_long 40 --train_config conf/tuning/train_cpu.yaml
with a GPU:
  ./run.sh --n_sentences 3000 --n_long 40 --train_config conf/tuning/train_gpu.yaml --ngpu 1
EOM
