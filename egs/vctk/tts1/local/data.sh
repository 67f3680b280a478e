#!/usr/bin/env bash
# Stage 0 data preparation for VCTK-Corpus-0.92 (110 speakers, 48 kHz FLAC, two microphones).
#
# Usage: local/data.sh --db_root DIR [options] <data_dir>
#   --db_root DIR        the unpacked corpus: wav48_silence_trimmed/, txt/, speaker-info.txt
#   --mic mic1|mic2      microphone (default mic1, the omni-directional DPA 4035)
#   --n_dev N            dev utterances per speaker (default 2)
#   --n_eval N           eval utterances per speaker (default 2)
#   --skip_bad BOOL      skip bad utterances with a logged reason instead of stopping (default false)
#   --fs HZ              wav.scp resamples to this rate with sox (default 22050 = feats.fs)
#   --speakers A,B       only these speakers (default: all), e.g. p225,p226 for a quick test
# Writes <data_dir>/{train,dev,eval}/{wav.scp,text,utt2spk,spk2utt,spk2gender}, sorted by id;
# wav.scp holds sox pipes ("sox in.flac -t wav -r 22050 -b 16 -c 1 - |"), so sox must be
# installed for stage 1. Split, per speaker and deterministic: of the utterances sorted by
# id, the last n_eval are eval and the n_dev before them dev. Recordings without text (all
# of p315) and texts without a recording (mic2: p280, part of p362) are skipped and logged.
# Details: local/data_prep.py.
# Python: $PYTHON if set, else the repo's tools/venv/bin/python, else python3 (stdlib only).
set -euo pipefail

db_root=""
mic=mic1
n_dev=2
n_eval=2
skip_bad=false
fs=22050
speakers=""

local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
. "${repo_root}/utils/parse_options.sh"
expect_args 1 "<data_dir>" $#
data_dir=$1

require_option db_root "${db_root}" "pass --db_root <unpacked VCTK-Corpus-0.92 dir>\
 (e.g. downloads/VCTK-Corpus-0.92), or run stage -1 first to download it"
if ! command -v sox > /dev/null; then
    echo "$0: warning: sox not found; stage 1 needs it to read wav.scp" \
        "(apt-get install -y sox)" >&2
fi

exec "${PYTHON}" "${local_dir}/data_prep.py" \
    --db_root "${db_root}" --mic "${mic}" --n_dev "${n_dev}" --n_eval "${n_eval}" \
    --skip_bad "${skip_bad}" --fs "${fs}" --speakers "${speakers}" "${data_dir}"
