#!/usr/bin/env bash
# LJSpeech-1.1 (13,100 utterances, one female reader, 22.05 kHz): the paper's corpus.
#   ./run.sh --db_root /path/to/LJSpeech-1.1          (stages 0-7 on a corpus you have)
#   ./run.sh --stage -1 --stop_stage -1                (download into downloads/ first; needs internet)
#   ./run.sh --ngpu 2 --stage 3 --stop_stage 3         (train on two GPUs)
# Data split (local/data.sh): the last 500 utterances of metadata.csv are dev (250)
# then eval (250); the rest is train. All hyper-parameters: conf/train.yaml.
set -euo pipefail
cd "$(dirname "$0")"

db_root=downloads/LJSpeech-1.1

./tts.sh --db_root "$db_root" --train_config conf/train.yaml "$@"
