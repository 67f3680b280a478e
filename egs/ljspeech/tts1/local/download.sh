#!/usr/bin/env bash
# Stage -1: download and unpack LJSpeech-1.1 into <download_dir>/LJSpeech-1.1.
#
# Usage: local/download.sh [options] <download_dir>
#   --url URL             archive URL (default: the official keithito.com one)
#   --sha256 HEX|none     expected SHA-256 of the archive; "none" only prints the hash
#   --keep_archive BOOL   keep the .tar.bz2 after unpacking (default false: it is 2.6 GB)
#
# Idempotent: does nothing when <download_dir>/LJSpeech-1.1 already exists (it is only
# created, by a rename, after a complete and verified unpack). Resumable: an interrupted
# download continues from <download_dir>/LJSpeech-1.1.tar.bz2.part on the next run.
# The archive's SHA-256 is always computed and printed; the default expected value is the
# checksum torchaudio publishes for this exact URL (torchaudio.datasets.LJSPEECH). We have
# not downloaded the archive ourselves to re-derive it; if the official file ever changes,
# pass --sha256 none (or the new value) after checking the file some other way.
# Afterwards: local/data.sh --db_root <download_dir>/LJSpeech-1.1 data
set -euo pipefail

url="https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2"
sha256="be1a30453f28eb8dd26af4101ae40cbf2c50413b1bb21936cbcdc6fae3de8aa5"
keep_archive=false

local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
utils="${repo_root}/utils"
. "${utils}/parse_options.sh"
expect_args 1 "<download_dir>" $#
dir=$1
corpus=LJSpeech-1.1

if [ -d "${dir}/${corpus}" ]; then
    echo "$0: ${dir}/${corpus} already exists; skipping download"
    exit 0
fi
"${utils}/download_and_unpack.sh" --sha256 "${sha256}" --keep_archive "${keep_archive}" \
    --size "2.6 GB" --root "${corpus}" --require "metadata.csv wavs/" \
    "${url}" "${dir}/${corpus}.tar.bz2" "${dir}/${corpus}"
echo "$0: done: ${dir}/${corpus} ($(find "${dir}/${corpus}/wavs" -name '*.wav' | wc -l) wavs)"
