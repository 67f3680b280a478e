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

usage() {
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

while [ $# -gt 0 ]; do
    case "$1" in
        -h|--help) usage; exit 0 ;;
        --url|--sha256|--keep_archive)
            [ $# -ge 2 ] || { echo "$0: error: option $1 needs a value" >&2; exit 1; }
            printf -v "${1#--}" '%s' "$2"; shift 2 ;;
        --url=*|--sha256=*|--keep_archive=*)
            opt="${1%%=*}"; printf -v "${opt#--}" '%s' "${1#*=}"; shift ;;
        --*) echo "$0: error: unknown option $1 (see --help)" >&2; exit 1 ;;
        *) break ;;
    esac
done
if [ $# -ne 1 ]; then
    usage >&2
    echo "$0: error: expected exactly one argument <download_dir>, got $#" >&2
    exit 1
fi
dir=$1
corpus=LJSpeech-1.1
archive="${dir}/${corpus}.tar.bz2"

if [ -d "${dir}/${corpus}" ]; then
    echo "$0: ${dir}/${corpus} already exists; skipping download"
    exit 0
fi
mkdir -p "${dir}"

if [ ! -f "${archive}" ]; then
    echo "$0: downloading ${url} -> ${archive} (2.6 GB; resumable)"
    rc=0
    if command -v curl > /dev/null; then
        curl -fL --retry 3 -C - -o "${archive}.part" "${url}" || rc=$?
    elif command -v wget > /dev/null; then
        wget -c -t 3 -O "${archive}.part" "${url}" || rc=$?
    else
        echo "$0: error: neither curl nor wget found; install one (apt-get install -y curl)" >&2
        exit 1
    fi
    if [ "${rc}" -ne 0 ]; then
        cat >&2 << EOF
$0: error: could not download ${url} (exit status ${rc}; offline or the server is down?).
  Re-run this script to resume from ${archive}.part, or fetch the file some other way and
  put it at ${archive}, or point the recipe at an existing copy with --db_root.
EOF
        exit 1
    fi
    mv "${archive}.part" "${archive}"
fi

echo "$0: computing SHA-256 of ${archive}"
if command -v sha256sum > /dev/null; then
    actual=$(sha256sum "${archive}" | cut -d' ' -f1)
else
    actual=$(shasum -a 256 "${archive}" | cut -d' ' -f1)
fi
echo "$0: sha256 ${actual}"
if [ "${sha256}" != none ] && [ "${actual}" != "${sha256}" ]; then
    cat >&2 << EOF
$0: error: checksum mismatch for ${archive}:
  expected ${sha256}
  got      ${actual}
  The file is corrupt or incomplete: delete it and re-run (or pass --sha256 none if you
  have verified a newer official archive yourself).
EOF
    exit 1
fi

# Unpack into a scratch dir and rename, so an interrupted unpack never looks complete.
tmp="${dir}/.${corpus}.unpack"
rm -rf "${tmp}"
mkdir -p "${tmp}"
echo "$0: unpacking ${archive}"
tar -xjf "${archive}" -C "${tmp}"
if [ ! -f "${tmp}/${corpus}/metadata.csv" ] || [ ! -d "${tmp}/${corpus}/wavs" ]; then
    echo "$0: error: ${archive} does not hold ${corpus}/metadata.csv and ${corpus}/wavs/" >&2
    rm -rf "${tmp}"
    exit 1
fi
mv "${tmp}/${corpus}" "${dir}/${corpus}"
rm -rf "${tmp}"
case "${keep_archive}" in
    true|1|yes) ;;
    *) rm -f "${archive}" ;;
esac
echo "$0: done: ${dir}/${corpus} ($(find "${dir}/${corpus}/wavs" -name '*.wav' | wc -l) wavs)"
