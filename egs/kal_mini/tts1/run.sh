#!/usr/bin/env bash
# kal_mini: an embedded single-speaker corpus that needs no download, the voice a trained
# slt_mini voice is fine-tuned to. Stage -1 writes it with Debian's Festival and its US male
# diphone voice (kal_diphone, festvox-kallpc16k), reading the same sentence list as slt_mini
# (local/sentences.txt extended by local/make_sentences.py), resampled to 22050 Hz with sox,
# in the LJSpeech-1.1 layout, ids KAL0001...; every later stage is the shared recipe.
#   ./run.sh --n_sentences 360 --stage -1 --stop_stage 2      # corpus, features, tokens
# Fine-tuning a trained slt_mini voice (its token list and front-end come with it):
#   ./run.sh --stage 2 --train_config conf/tuning/finetune.yaml \
#     --init_from ../../slt_mini/tts1/exp/train_cpu_phn --tag finetune
# Fine-tuning against training from scratch, 100 and 300 utterances: local/compare_finetune.sh
set -euo pipefail
cd "$(dirname "$0")"

n_sentences=360     # sentences to synthesise at stage -1 (beyond 360: see slt_mini's local/README.md)
stage=-1
opts=()
while [ $# -gt 0 ]; do
  case $1 in
    --n_sentences) n_sentences=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    *) opts+=("$1"); shift ;;
  esac
done

# options given later (the user's) override these defaults
./tts.sh --stage "$stage" --db_root downloads/kal_mini --train_config conf/train.yaml \
  --download_opts "--n_sentences $n_sentences" --nj 2 --eval_sets "dev eval" "${opts[@]}"
