#!/usr/bin/env bash
# Stage -1 of kal_mini: nothing to download; synthesise the corpus into
# <download_dir>/kal_mini (the recipe's db_root) with slt_mini's local/make_corpus.sh and
# Festival's kal_diphone voice. Sentence i of the list is KAL<i>, the text of SLT<i> in
# slt_mini, so the two corpora split alike (the last lines are dev and eval in both).
#
# Usage: local/download.sh [make_corpus.sh options] <download_dir>
#   e.g. local/download.sh --n_sentences 3000 downloads
# Options (--n_sentences, --nj, --sentences, --auto_install, --sources, --extend) go to
# make_corpus.sh unchanged; --voice and --id_prefix are fixed here (kal, KAL).
# Debian/Ubuntu packages: festival sox festvox-kallpc16k.
set -euo pipefail
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
if [ $# -lt 1 ] || [[ "${!#}" == --* ]]; then
    usage_error "the last argument must be <download_dir>"
fi
dir=${!#}
# given last, --voice and --id_prefix override any the caller passed
exec "${local_dir}/../../../slt_mini/tts1/local/make_corpus.sh" "${@:1:$#-1}" \
    --voice kal --id_prefix KAL "${dir}/kal_mini"
