#!/usr/bin/env bash
# Stage 0 data preparation for slt_mini: the corpus made by local/make_corpus.sh has the
# LJSpeech-1.1 layout, so this reuses egs/ljspeech/tts1/local/data.sh unchanged, with the
# speaker id SLT (the id prefix of the slt voice) as the only different default. When the
# corpus has long sentences (make_corpus.sh --n_long: <db_root>/long/metadata.csv), they
# become one more set, data/<long_set>, never part of the train/dev/eval split.
#
# Usage: local/data.sh --db_root DIR [--n_dev 250 --n_eval 250 --skip_bad false --spk SLT
#                      --text_field raw --long_set eval_long] <data_dir>
# With the default 360 sentences (fewer than 10*(n_dev+n_eval)) the split is
# 10% dev, 10% eval: 288/36/36. See egs/ljspeech/tts1/local/data.sh for the details.
set -euo pipefail
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links

db_root=""
n_dev=250
n_eval=250
skip_bad=false
spk=SLT
text_field=raw
long_set=eval_long

help_message=$(awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0")
. "${local_dir}/../../../../utils/parse_options.sh"
if [ $# -ne 1 ]; then
    printf '%s\n' "${help_message}" >&2
    echo "$0: error: expected exactly one argument <data_dir>, got $#" >&2
    exit 1
fi
data_dir=$1

ljspeech_data=${local_dir}/../../../ljspeech/tts1/local/data.sh
common=(--skip_bad "${skip_bad}" --spk "${spk}" --text_field "${text_field}")
"${ljspeech_data}" --db_root "${db_root}" --n_dev "${n_dev}" --n_eval "${n_eval}" \
    "${common[@]}" "${data_dir}"
if [ -n "${db_root}" ] && [ -f "${db_root}/long/metadata.csv" ]; then
    "${ljspeech_data}" --db_root "${db_root}/long" --whole_set "${long_set}" \
        "${common[@]}" "${data_dir}"
fi
