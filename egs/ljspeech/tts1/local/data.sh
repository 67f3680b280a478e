#!/usr/bin/env bash
# Stage 0 data preparation for a corpus in the LJSpeech-1.1 layout.
#
# Usage: local/data.sh --db_root DIR [options] <data_dir>
#   --db_root DIR        corpus dir holding metadata.csv and wavs/ (e.g. downloads/LJSpeech-1.1)
#   --n_dev N            dev utterances (default 250)
#   --n_eval N           eval utterances (default 250)
#   --skip_bad BOOL      skip bad utterances with a logged reason instead of stopping (default false)
#   --spk ID             speaker id for utt2spk (default LJ)
#   --text_field F       raw|normalized metadata.csv column (default raw: the front-end
#                        normalises numbers/abbreviations itself)
#   --whole_set NAME     write the whole corpus as the one set <data_dir>/NAME, no split
#                        (an extra evaluation set; default: empty = the split below)
# Writes <data_dir>/{train,dev,eval}/{wav.scp,text,utt2spk,spk2utt}, sorted by utterance id,
# wav.scp with absolute paths. Split: the last n_dev+n_eval utterances of metadata.csv are
# dev then eval; corpora with fewer than 10*(n_dev+n_eval) utterances hold out
# max(1, N/10) each instead. Details: local/data_prep.py.
# Python: $PYTHON if set, else the repo's tools/venv/bin/python, else python3 (stdlib only).
set -euo pipefail

db_root=""
n_dev=250
n_eval=250
skip_bad=false
spk=LJ
text_field=raw
whole_set=

local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
. "${repo_root}/utils/parse_options.sh"
expect_args 1 "<data_dir>" $#
data_dir=$1

require_option db_root "${db_root}" "pass --db_root <dir holding metadata.csv and wavs/>\
 (e.g. downloads/LJSpeech-1.1), or run stage -1 first to download/make the corpus"

whole=()
[ -z "${whole_set}" ] || whole=(--whole_set "${whole_set}")
exec "${PYTHON}" "${local_dir}/data_prep.py" "${whole[@]}" \
    --db_root "${db_root}" --n_dev "${n_dev}" --n_eval "${n_eval}" \
    --skip_bad "${skip_bad}" --spk "${spk}" --text_field "${text_field}" "${data_dir}"
