#!/usr/bin/env bash
# Stage -1 of slt_mini: nothing to download; synthesise the corpus into <download_dir>/slt_mini
# (the recipe's db_root, downloads/slt_mini by default) with local/make_corpus.sh.
#
# Usage: local/download.sh [make_corpus.sh options] <download_dir>
#   e.g. local/download.sh --n_sentences 100 --nj 4 downloads
# Options (--n_sentences, --nj, --voice, --sentences, --auto_install, --sources, --n_long,
# --extend) go to make_corpus.sh unchanged; see local/make_corpus.sh --help and
# local/README.md. Re-running reuses every wav already made.
#   e.g. local/download.sh --n_sentences 3000 --n_long 20 downloads   # a real run
set -euo pipefail
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
if [ $# -lt 1 ] || [[ "${!#}" == --* ]]; then
    usage_error "the last argument must be <download_dir>"
fi
dir=${!#}
exec "${local_dir}/make_corpus.sh" "${@:1:$#-1}" "${dir}/slt_mini"
