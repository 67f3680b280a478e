#!/usr/bin/env bash
# Stage -1 of slt_kal_mini: nothing to download; synthesise a two-speaker corpus with
# Festival into <download_dir>/slt_kal_mini (the recipe's db_root, downloads/slt_kal_mini):
#   <download_dir>/slt_kal_mini/slt/   voice slt (US female HTS), ids SLT0001 ...
#   <download_dir>/slt_kal_mini/kal/   voice kal (US male diphone, 16 kHz), ids KAL0001 ...
# each in the LJSpeech-1.1 layout (metadata.csv, wavs/, 22050 Hz), made by
# egs/slt_mini/tts1/local/make_corpus.sh. Both voices read the same sentences, so sentence i
# is SLT<i> and KAL<i>: the same text from two speakers.
#
# Usage: local/download.sh [options] <download_dir>
#   e.g. local/download.sh --n_sentences 100 --nj 4 downloads
# Options (--n_sentences per voice, --nj, --sentences, --auto_install, ...) go to
# make_corpus.sh unchanged for both voices (see its --help), except --voice and --id_prefix,
# which are fixed here. Re-running reuses every wav already made.
# Debian/Ubuntu packages: festival sox festvox-us-slt-hts festvox-kallpc16k.
set -euo pipefail
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
if [ $# -lt 1 ] || [[ "${!#}" == --* ]]; then
    usage_error "the last argument must be <download_dir>"
fi
for a in "${@:1:$#-1}"; do
    if [[ "${a}" == --voice* || "${a}" == --id_prefix* ]]; then
        echo "$0: error: ${a%%=*} is fixed here (both slt and kal are made, ids SLT*/KAL*)" >&2
        exit 1
    fi
done
dir=${!#}
make_corpus="${local_dir}/../../../slt_mini/tts1/local/make_corpus.sh"
for voice in slt kal; do
    "${make_corpus}" --voice "${voice}" "${@:1:$#-1}" "${dir}/slt_kal_mini/${voice}"
done
