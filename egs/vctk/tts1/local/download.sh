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
corpus=VCTK-Corpus-0.92
archive="${dir}/${corpus}.zip"

if [ -d "${dir}/${corpus}" ]; then
    echo "$0: ${dir}/${corpus} already exists; skipping download"
    exit 0
fi
mkdir -p "${dir}"

if [ ! -f "${archive}" ]; then
    echo "$0: downloading ${url} -> ${archive} (11 GB; resumable)"
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
        cat >&2 << EOF2
$0: error: could not download ${url} (exit status ${rc}; offline or the server is down?).
  Re-run this script to resume from ${archive}.part, or fetch the file some other way and
  put it at ${archive}, or point the recipe at an existing copy with --db_root.
EOF2
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
    cat >&2 << EOF2
$0: error: checksum mismatch for ${archive}:
  expected ${sha256}
  got      ${actual}
  The file is corrupt or incomplete: delete it and re-run (or pass --sha256 none if you
  have verified a newer official archive yourself).
EOF2
    exit 1
fi

# Unpack into a scratch dir and rename, so an interrupted unpack never looks complete.
# The official zip has the corpus files at its top level; a zip with one top folder
# (a repackaged copy) is accepted too.
tmp="${dir}/.${corpus}.unpack"
rm -rf "${tmp}"
mkdir -p "${tmp}"
echo "$0: unpacking ${archive}"
if command -v unzip > /dev/null; then
    unzip -q "${archive}" -d "${tmp}"
else
    python3 -m zipfile -e "${archive}" "${tmp}"
fi
root="${tmp}"
if [ ! -d "${root}/wav48_silence_trimmed" ]; then
    root=$(find "${tmp}" -mindepth 2 -maxdepth 2 -type d -name wav48_silence_trimmed -printf '%h\n' | head -n 1)
fi
if [ -z "${root}" ] || [ ! -d "${root}/wav48_silence_trimmed" ] || [ ! -d "${root}/txt" ]; then
    echo "$0: error: ${archive} does not hold wav48_silence_trimmed/ and txt/ (not VCTK 0.92?)" >&2
    rm -rf "${tmp}"
    exit 1
fi
mv "${root}" "${dir}/${corpus}"
rm -rf "${tmp}"
case "${keep_archive}" in
    true|1|yes) ;;
    *) rm -f "${archive}" ;;
esac
n=$(find "${dir}/${corpus}/wav48_silence_trimmed" -name '*.flac' | wc -l)
echo "$0: done: ${dir}/${corpus} (${n} flac files)"
