#!/usr/bin/env bash
# Stage 0 data preparation for slt_mini: the corpus made by local/make_corpus.sh has the
# LJSpeech-1.1 layout, so this reuses egs/ljspeech/tts1/local/data.sh unchanged, with the
# speaker id SLT (the id prefix of the slt voice) as the only different default. When the
# corpus has long sentences (make_corpus.sh --n_long: <db_root>/long/metadata.csv), they
# become one more set, data/eval_long, never part of the train/dev/eval split.
#
# Usage: local/data.sh --db_root DIR [--n_dev 250 --n_eval 250 --skip_bad false --spk SLT
#                      --text_field raw] <data_dir>
# With the default 360 sentences (fewer than 10*(n_dev+n_eval)) the split is
# 10% dev, 10% eval: 288/36/36. See egs/ljspeech/tts1/local/data.sh for the details.
set -euo pipefail
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
ljspeech_data=${local_dir}/../../../ljspeech/tts1/local/data.sh

# Options given later override earlier ones, so a caller's --spk replaces this default.
"${ljspeech_data}" --spk SLT "$@"

# The long set: the same options, with <db_root>/long as the corpus and no split.
args=("$@")
db_root=
for ((i = 0; i < ${#args[@]} - 1; i++)); do
    case ${args[i]} in
        --db_root) db_root=${args[i + 1]} ;;
        --db_root=*) db_root=${args[i]#*=} ;;
    esac
done
if [ -n "${db_root}" ] && [ -f "${db_root}/long/metadata.csv" ]; then
    "${ljspeech_data}" --spk SLT "${args[@]:0:${#args[@]}-1}" \
        --db_root "${db_root}/long" --whole_set eval_long "${args[-1]}"
fi
