#!/usr/bin/env bash
# Stage -1: download and unpack VCTK-Corpus-0.92 into <download_dir>/VCTK-Corpus-0.92.
#
# Usage: local/download.sh [options] <download_dir>
#   --url URL             archive URL (default: the official Edinburgh DataShare one)
#   --sha256 HEX|none     expected SHA-256 of the archive; "none" only prints the hash
#   --keep_archive BOOL   keep the .zip after unpacking (default false: it is 11 GB)
#
# Idempotent: does nothing when <download_dir>/VCTK-Corpus-0.92 already exists (it is only
# created, by a rename, after a complete and verified unpack). Resumable: an interrupted
# download continues from <download_dir>/VCTK-Corpus-0.92.zip.part on the next run.
# The archive's SHA-256 is always computed and printed; the default expected value is the
# checksum torchaudio publishes for this archive (torchaudio.datasets.VCTK_092, whose URL
# is the older datashare.is.ed.ac.uk name of the same DataShare item 10283/3443). We have
# not downloaded the archive ourselves to re-derive it; if the official file ever changes,
# pass --sha256 none (or the new value) after checking the file some other way.
# Licence: CC BY 4.0 (University of Edinburgh, CSTR); cite Yamagishi et al. 2019.
# Afterwards: local/data.sh --db_root <download_dir>/VCTK-Corpus-0.92 data
set -euo pipefail

url="https://datashare.ed.ac.uk/bitstream/handle/10283/3443/VCTK-Corpus-0.92.zip"
sha256="f96258be9fdc2cbff6559541aae7ea4f59df3fcaf5cf963aae5ca647357e359c"
keep_archive=false

local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
utils="${repo_root}/utils"
. "${utils}/parse_options.sh"
expect_args 1 "<download_dir>" $#
dir=$1
corpus=VCTK-Corpus-0.92

if [ -d "${dir}/${corpus}" ]; then
    echo "$0: ${dir}/${corpus} already exists; skipping download"
    exit 0
fi
# The official zip has the corpus files at its top level; a zip with one top folder
# (a repackaged copy) is accepted too.
"${utils}/download_and_unpack.sh" --sha256 "${sha256}" --keep_archive "${keep_archive}" \
    --size "11 GB" --require "wav48_silence_trimmed/ txt/" --hint "(not VCTK 0.92?)" \
    "${url}" "${dir}/${corpus}.zip" "${dir}/${corpus}"
n=$(find "${dir}/${corpus}/wav48_silence_trimmed" -name '*.flac' | wc -l)
echo "$0: done: ${dir}/${corpus} (${n} flac files)"
