#!/usr/bin/env bash
# slt_kal_mini: an embedded two-speaker corpus that needs no download. Stage -1 writes it
# with Debian's Festival and two voices, slt (US female HTS) and kal (US male diphone), both
# reading the project's sentence list (egs/slt_mini/tts1/local/sentences.txt) at 22050 Hz;
# stage 0 merges them into one set of data dirs with speakers SLT and KAL in utt2spk. Every
# later stage is the shared recipe; training writes exp/<tag>/spk_list.txt.
#   ./run.sh                              # stages -1..7 with the CPU demo config
#   ./run.sh --n_sentences 300 --stage -1 --stop_stage -1
# Synthesis afterwards, one speaker at a time:
#   glowtts-synthesize --exp exp/train_char --spk KAL --text "Hello there." --out kal.wav
set -euo pipefail
cd "$(dirname "$0")"

n_sentences=100     # sentences per voice to synthesise at stage -1
stage=-1
opts=()
while [ $# -gt 0 ]; do
  case $1 in
    --n_sentences) n_sentences=$2; shift 2 ;;
    --stage) stage=$2; shift 2 ;;
    *) opts+=("$1"); shift ;;
  esac
done

./tts.sh --stage "$stage" --db_root downloads/slt_kal_mini --train_config conf/train.yaml \
  --download_opts "--n_sentences $n_sentences" --nj 2 "${opts[@]}"
