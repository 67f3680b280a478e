#!/usr/bin/env bash
# Download a corpus archive (resumable), verify its SHA-256 and unpack it into a directory
# that only ever appears complete.
#
# Usage: utils/download_and_unpack.sh [options] <url> <archive> <corpus_dir>
#   e.g. utils/download_and_unpack.sh --sha256 <hex> --root LJSpeech-1.1 \
#          --require "metadata.csv wavs/" --size "2.6 GB" \
#          https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2 \
#          downloads/LJSpeech-1.1.tar.bz2 downloads/LJSpeech-1.1
# Options:
#   --sha256 HEX|none     expected SHA-256 of <archive>; "none" only prints it (default none)
#   --keep_archive BOOL   keep <archive> after unpacking (default false)
#   --size TEXT           size shown in the download message, e.g. "2.6 GB" (default: none)
#   --root DIR            the corpus is DIR inside the archive (default "": the archive's top
#                         level, or the top folder that holds the first --require entry)
#   --require "A B/ ..."  entries the corpus must hold (a trailing / marks a directory)
#   --hint TEXT           appended to the error when they are missing, e.g. "(not VCTK 0.92?)"
#
# Idempotent: does nothing when <corpus_dir> exists (it is only created, by a rename, after a
# complete and verified unpack). Resumable: an interrupted download continues from
# <archive>.part (curl -C - or wget -c) on the next run. The SHA-256 is always computed and
# printed. *.zip archives are unpacked with unzip (or python3 -m zipfile), others with tar.
# Exit status 1, with the reason and the fix on stderr, when the download, the checksum or
# the archive's content is wrong.
set -euo pipefail

sha256=none
keep_archive=false
size=""
root=""
require=""
hint=""

. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/lib/script.sh"
. "${repo_root}/utils/parse_options.sh"
prog=$(basename "$0")
expect_args 3 "<url> <archive> <corpus_dir>" $#
url=$1
archive=$2
corpus_dir=$3
dir=$(dirname "${corpus_dir}")

if [ -d "${corpus_dir}" ]; then
    echo "${prog}: ${corpus_dir} already exists; skipping download"
    exit 0
fi
mkdir -p "${dir}" "$(dirname "${archive}")"

if [ ! -f "${archive}" ]; then
    echo "${prog}: downloading ${url} -> ${archive} (${size:+${size}; }resumable)"
    rc=0
    if command -v curl > /dev/null; then
        curl -fL --retry 3 -C - -o "${archive}.part" "${url}" || rc=$?
    elif command -v wget > /dev/null; then
        wget -c -t 3 -O "${archive}.part" "${url}" || rc=$?
    else
        echo "${prog}: error: neither curl nor wget found; install one" \
            "(apt-get install -y curl)" >&2
        exit 1
    fi
    if [ "${rc}" -ne 0 ]; then
        cat >&2 << EOF
${prog}: error: could not download ${url} (exit status ${rc}; offline or the server is down?).
  Re-run this script to resume from ${archive}.part, or fetch the file some other way and
  put it at ${archive}, or point the recipe at an existing copy with --db_root.
EOF
        exit 1
    fi
    mv "${archive}.part" "${archive}"
fi

echo "${prog}: computing SHA-256 of ${archive}"
if command -v sha256sum > /dev/null; then
    actual=$(sha256sum "${archive}" | cut -d' ' -f1)
else
    actual=$(shasum -a 256 "${archive}" | cut -d' ' -f1)
fi
echo "${prog}: sha256 ${actual}"
if [ "${sha256}" != none ] && [ "${actual}" != "${sha256}" ]; then
    cat >&2 << EOF
${prog}: error: checksum mismatch for ${archive}:
  expected ${sha256}
  got      ${actual}
  The file is corrupt or incomplete: delete it and re-run (or pass --sha256 none if you
  have verified a newer official archive yourself).
EOF
    exit 1
fi

# Unpack into a scratch dir and rename, so an interrupted unpack never looks complete.
tmp="${dir}/.$(basename "${corpus_dir}").unpack"
rm -rf "${tmp}"
mkdir -p "${tmp}"
echo "${prog}: unpacking ${archive}"
case "${archive}" in
    *.zip)
        if command -v unzip > /dev/null; then
            unzip -q "${archive}" -d "${tmp}"
        else
            python3 -m zipfile -e "${archive}" "${tmp}"
        fi ;;
    *) tar -xf "${archive}" -C "${tmp}" ;;
esac

read -r -a entries <<< "${require}"
if [ -n "${root}" ]; then
    src="${tmp}/${root}"
    prefix="${root}/"
else
    # The archive's top level, or (a repackaged copy) the one top folder holding the corpus.
    src="${tmp}"
    prefix=""
    if [ "${#entries[@]}" -gt 0 ] && [ ! -e "${tmp}/${entries[0]%/}" ]; then
        src=$(find "${tmp}" -mindepth 2 -maxdepth 2 -name "${entries[0]%/}" -printf '%h\n' \
            | head -n 1)
    fi
fi
ok=true
[ -n "${src}" ] && [ -d "${src}" ] || ok=false
listing=""
for e in "${entries[@]}"; do
    listing+="${listing:+ and }${prefix}${e}"
    if [[ "${e}" == */ ]]; then
        [ -d "${src}/${e%/}" ] || ok=false
    else
        [ -f "${src}/${e}" ] || ok=false
    fi
done
if [ "${ok}" != true ]; then
    echo "${prog}: error: ${archive} does not hold ${listing:-${root}}${hint:+ ${hint}}" >&2
    rm -rf "${tmp}"
    exit 1
fi
mv "${src}" "${corpus_dir}"
rm -rf "${tmp}"
if [ "${keep_archive}" != true ]; then
    rm -f "${archive}"
fi
