#!/usr/bin/env bash
# slt_mini: an embedded corpus that needs no download. Stage -1 writes it with
# Debian's Festival and its US female HTS voice (cmu_us_slt_arctic_hts), from the
# project's own sentence list (local/sentences.txt), resampled to 22050 Hz with sox,
# in the LJSpeech-1.1 layout; every later stage is the shared recipe.
#   ./run.sh                              # stages -1..7 with the CPU demo config
#   ./run.sh --n_sentences 300 --stage -1 --stop_stage -1
#   ./run.sh --train_config conf/tuning/train_gpu.yaml --ngpu 1 --token_type phn
#   ./run.sh --n_sentences 3000 --n_long 40 --train_config conf/tuning/train_cpu.yaml
# With long sentences (--n_long, or downloads/slt_mini/long/ from an earlier run), they are
# one more evaluation set, eval_long, decoded and scored in stages 4-7 next to dev and eval.
set -euo pipefail
cd "$(dirname "$0")"

n_sentences=200     # sentences to synthesise at stage -1 (beyond 360: chosen from fortunes
                    # and WordNet for phonetic coverage, see local/README.md)
n_long=0            # extra long sentences (> 250 chars) in downloads/slt_mini/long/
stage=-1
opts=()
while [ $# -gt 0 ]; do
  case $1 in
    --n_sentences) n_sentences=$2; shift 2 ;;
    --n_long) n_long=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    *) opts+=("$1"); shift ;;
  esac
done

eval_sets="dev eval"
if [ "$n_long" -gt 0 ] || [ -f downloads/slt_mini/long/metadata.csv ]; then
  eval_sets="dev eval eval_long"
fi
# options given later (the user's) override these defaults
./tts.sh --stage "$stage" --db_root downloads/slt_mini --train_config conf/train.yaml \
  --download_opts "--n_sentences $n_sentences --n_long $n_long" --nj 2 --eval_sets "$eval_sets" \
  "${opts[@]}"
