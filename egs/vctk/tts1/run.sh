#!/usr/bin/env bash
# VCTK-Corpus-0.92 (110 English speakers with various accents, 48 kHz, two microphones): a
# multi-speaker Glow-TTS. Speaker ids come from data/<set>/utt2spk; training writes
# exp/<tag>/spk_list.txt (name -> embedding row) and every later stage uses it.
#   ./run.sh --db_root /path/to/VCTK-Corpus-0.92       (stages 0-7 on a corpus you have)
#   ./run.sh --stage -1 --stop_stage -1                 (download into downloads/ first; 11 GB)
#   ./run.sh --ngpu 2 --stage 3 --stop_stage 3          (train on two GPUs)
#   ./run.sh --data_opts "--mic mic2 --speakers p225,p226"   (other microphone, a subset)
# Data split (local/data.sh): per speaker, the last 2 utterances by id are eval, the 2
# before them dev; the rest is train. Audio is resampled 48 kHz -> 22050 Hz by sox pipes
# in wav.scp. All hyper-parameters: conf/train.yaml.
# Synthesis for one speaker afterwards:
#   glowtts-synthesize --exp exp/train_phn --spk p225 --text "Hello." --out hello.wav
set -euo pipefail
cd "$(dirname "$0")"

db_root=downloads/VCTK-Corpus-0.92

./tts.sh --db_root "$db_root" --train_config conf/train.yaml "$@"
