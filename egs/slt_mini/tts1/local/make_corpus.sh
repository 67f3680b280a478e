#!/usr/bin/env bash
# Stage -1 of the embedded recipe: synthesise a small single-speaker corpus with festival.
#
# Usage: local/make_corpus.sh [options] <out_dir>
#   --n_sentences N       N sentences (default 0 = all of the list). With the default list and
#                         N beyond its length, local/make_sentences.py extends it: the own
#                         sentences, then sentences of Debian text packages chosen for
#                         phonetic coverage (3000 sentences are a few hours of audio); the
#                         list used is <out_dir>/sentences.txt. See local/README.md.
#   --extend BOOL         false: never extend, N is at most the list's length (default true)
#   --nj J                parallel synthesis jobs (default 2)
#   --voice V             slt (US female HTS, default; ids SLT0001...) or
#                         kal (US male diphone; ids KAL0001...), for a later multi-speaker variant
#   --sentences FILE      sentence list, one a line (default: local/sentences.txt)
#   --auto_install BOOL   when root and festival/voice/sox (or the text sources) are missing,
#                         apt-get them (default true)
#   --sources LIST        text sources for the extension: fortunes,wordnet (default both)
#   --n_long M            also make M long utterances (> 250 characters, none of whose
#                         sentences is in the main list) for a long-form eval, as their own
#                         LJSpeech layout in <out_dir>/long (ids <PREFIX>L0001...; default 0)
#   --id_prefix P         utterance id prefix (default: SLT or KAL from --voice)
#
# Writes the LJSpeech-1.1 layout, so ljspeech's local/data.sh prepares it unchanged:
#   <out_dir>/metadata.csv      <id>|<text>|<text>, in id order
#   <out_dir>/wavs/<id>.wav     22050 Hz, 16-bit, mono
# Sentence i (1-based line of the list) always gets id <PREFIX><i as 4 digits>. festival's
# voices synthesise at their own rate (slt: 32 kHz, kal: 16 kHz); sox resamples to 22050 Hz
# without dither, so the output is bit-identical from run to run. Idempotent: a wav is kept
# when it is valid and was made from the same voice and text (stamp in <out_dir>/.work).
# Debian/Ubuntu packages: festival sox plus festvox-us-slt-hts (slt) or festvox-kallpc16k (kal).
set -euo pipefail
# C locale: byte-wise text handling, and "." as the decimal point of EPOCHREALTIME.
export LC_ALL=C

n_sentences=0
nj=2
voice=slt
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
sentences="${local_dir}/sentences.txt"
auto_install=true
sources=fortunes,wordnet
n_long=0
id_prefix=
extend=true

. "${local_dir}/../../../../utils/lib/script.sh"
. "${repo_root}/utils/parse_options.sh"
expect_args 1 "<out_dir>" $#
out_dir=$1

case "${voice}" in
    slt) voice_cmd="(voice_cmu_us_slt_arctic_hts)"; prefix=SLT; voice_pkg=festvox-us-slt-hts ;;
    kal) voice_cmd="(voice_kal_diphone)"; prefix=KAL; voice_pkg=festvox-kallpc16k ;;
    *) echo "$0: error: unknown --voice ${voice}; choose slt or kal" >&2; exit 1 ;;
esac
[ -n "${id_prefix}" ] && prefix=${id_prefix}
if ! [[ "${prefix}" =~ ^[A-Za-z0-9_]+$ ]]; then
    echo "$0: error: --id_prefix must be letters, digits or '_', got '${prefix}'" >&2
    exit 1
fi
for v in n_sentences nj n_long; do
    if ! [[ "${!v}" =~ ^[0-9]+$ ]]; then
        echo "$0: error: --${v} must be a non-negative integer, got '${!v}'" >&2
        exit 1
    fi
done
[ "${nj}" -ge 1 ] || { echo "$0: error: --nj must be >= 1" >&2; exit 1; }

# --- sentences -------------------------------------------------------------------------
if [ ! -f "${sentences}" ]; then
    echo "$0: error: sentence list ${sentences} not found (--sentences FILE)" >&2
    exit 1
fi
mapfile -t lines < "${sentences}"
n_avail=${#lines[@]}
if [ "${n_sentences}" -eq 0 ]; then
    n_sentences=${n_avail}
fi
if [ "${n_sentences}" -gt 9999 ]; then
    echo "$0: error: --n_sentences is limited to 9999 (4-digit ids)" >&2
    exit 1
fi
default_list=false
if [ "${extend}" = true ] && [ "${sentences}" -ef "${local_dir}/sentences.txt" ]; then
    default_list=true
fi
if { [ "${default_list}" = true ] && [ "${n_sentences}" -gt "${n_avail}" ]; } \
    || [ "${n_long}" -gt 0 ]; then
    # Extend the own list from Debian text packages (and/or pick long utterances).
    if [ "${n_sentences}" -gt "${n_avail}" ] && [ "${default_list}" = false ]; then
        echo "$0: error: --n_sentences ${n_sentences} is more than the ${n_avail} sentences in" \
            "${sentences}; the maximum is ${n_avail} (only the default list is extended," \
            "with --extend true)" >&2
        exit 1
    fi
    src_pkgs=""
    case ",${sources}," in *,fortunes,*)
        [ -f /usr/share/games/fortunes/fortunes ] || src_pkgs+=" fortunes-min fortunes" ;;
    esac
    case ",${sources}," in *,wordnet,*)
        [ -f /usr/share/wordnet/data.noun ] || src_pkgs+=" wordnet-base" ;;
    esac
    if [ -n "${src_pkgs}" ]; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null \
            && [ "${auto_install}" = true ]; then
            echo "$0: text sources missing; installing as root:"
            echo "$0:   apt-get update && apt-get install -y --no-install-recommends${src_pkgs}"
            apt-get update
            DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${src_pkgs}
        else
            echo "$0: error: the text sources for --n_sentences > ${n_avail} or --n_long are" \
                "missing. Install them with:" >&2
            echo "  sudo apt-get update && sudo apt-get install -y${src_pkgs}" >&2
            exit 1
        fi
    fi
    # PYTHON (utils/lib/script.sh) must have the glowtts package
    mkdir -p "${out_dir}"
    long_opts=()
    if [ "${n_long}" -gt 0 ]; then
        long_opts=(--n_long "${n_long}" --long_out "${out_dir}/long_sentences.txt")
    fi
    echo "$0: choosing ${n_sentences} sentences (own list, then ${sources})" \
        "-> ${out_dir}/sentences.txt"
    "${PYTHON}" "${local_dir}/make_sentences.py" --own "${sentences}" --sources "${sources}" \
        --n_sentences "${n_sentences}" "${long_opts[@]}" "${out_dir}/sentences.txt"
    sentences="${out_dir}/sentences.txt"
    mapfile -t lines < "${sentences}"
    n_avail=${#lines[@]}
fi
if [ "${n_sentences}" -gt "${n_avail}" ]; then
    echo "$0: error: --n_sentences ${n_sentences} is more than the ${n_avail} sentences in" \
        "${sentences}; the maximum is ${n_avail} (sentences are never repeated)" >&2
    exit 1
fi
for ((i = 0; i < n_sentences; i++)); do
    line=${lines[i]}
    # metadata.csv is '|'-separated and one line per utterance; tabs/CRs would leak into it.
    if [[ -z "${line//[[:space:]]/}" || "${line}" == *"|"* || "${line}" == *$'\r'* \
        || "${line}" == *$'\t'* ]]; then
        echo "$0: error: ${sentences}:$((i + 1)): empty, or contains '|', a tab or a CR" >&2
        exit 1
    fi
done

# --- tools -----------------------------------------------------------------------------
probe_voice() {
    # text2wave exits 0 even when the voice is unknown, so check that audio came out.
    local d
    d=$(mktemp -d)
    echo "test" > "${d}/p.txt"
    text2wave -o "${d}/p.wav" -eval "${voice_cmd}" "${d}/p.txt" > "${d}/log" 2>&1 || true
    local ok=1
    if [ -s "${d}/p.wav" ] && ! grep -q "SIOD ERROR" "${d}/log"; then ok=0; fi
    rm -rf "${d}"
    return ${ok}
}
missing() {
    command -v text2wave > /dev/null && command -v sox > /dev/null \
        && command -v soxi > /dev/null && probe_voice && return 1
    return 0
}
pkgs="festival ${voice_pkg} sox"
if missing; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get > /dev/null && [ "${auto_install}" = true ]; then
        echo "$0: festival, its ${voice} voice or sox is missing; installing as root:"
        echo "$0:   apt-get update && apt-get install -y --no-install-recommends ${pkgs}"
        apt-get update
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${pkgs}
    else
        echo "$0: error: festival, its ${voice} voice or sox is missing. Install them with:" >&2
        echo "  sudo apt-get update && sudo apt-get install -y ${pkgs}" >&2
        exit 1
    fi
    if missing; then
        echo "$0: error: festival voice '${voice}' still does not synthesise after installing" \
            "${pkgs}; try: echo test | text2wave -o /tmp/t.wav -eval '${voice_cmd}'" >&2
        exit 1
    fi
fi

# --- synthesis -------------------------------------------------------------------------
work="${out_dir}/.work"
mkdir -p "${out_dir}/wavs" "${work}"
ids=()
for ((i = 0; i < n_sentences; i++)); do
    id=$(printf '%s%04d' "${prefix}" $((i + 1)))
    ids+=("${id}")
    # One file per utterance: festival reads the text from a file, so quotes, parentheses
    # and other characters need no escaping. The .req stamp (voice + text) decides reuse.
    printf '%s\n' "${lines[i]}" > "${work}/${id}.txt"
    printf '%s\t%s\n' "${voice}" "${lines[i]}" > "${work}/${id}.req"
done

synth_one() {
    # Prints one status line: "kept ID", "made ID SECONDS" or "FAILED ID LOG".
    local id=$1 out_dir=$2 voice_cmd=$3
    local work="${out_dir}/.work" wav="${out_dir}/wavs/${id}.wav"
    if [ -s "${wav}" ] && cmp -s "${work}/${id}.req" "${work}/${id}.done" \
        && [ "$(soxi -r "${wav}" 2> /dev/null)" = 22050 ] \
        && [ "$(soxi -c "${wav}" 2> /dev/null)" = 1 ] \
        && [ "$(soxi -s "${wav}" 2> /dev/null || echo 0)" -gt 0 ]; then
        echo "kept ${id}"
        return 0
    fi
    # EPOCHREALTIME (bash >= 5) gives microseconds; fall back to whole seconds.
    local start=${EPOCHREALTIME:-${SECONDS}} raw="${work}/${id}.raw.wav" tmp="${work}/${id}.22k.wav"
    local log="${work}/${id}.log"
    rm -f "${raw}" "${tmp}" "${work}/${id}.done"
    if text2wave -o "${raw}" -eval "${voice_cmd}" "${work}/${id}.txt" > "${log}" 2>&1 \
        && ! grep -q "SIOD ERROR" "${log}" && [ -s "${raw}" ] \
        && sox -D -G "${raw}" -b 16 -c 1 -e signed-integer "${tmp}" rate -h 22050 >> "${log}" 2>&1 \
        && [ "$(soxi -s "${tmp}" 2> /dev/null || echo 0)" -gt 0 ]; then
        mv "${tmp}" "${wav}"
        cp "${work}/${id}.req" "${work}/${id}.done"
        rm -f "${raw}"
        local end=${EPOCHREALTIME:-${SECONDS}}
        echo "made ${id} $(awk -v a="${start}" -v b="${end}" 'BEGIN { printf "%.2f", b - a }')"
    else
        rm -f "${raw}" "${tmp}"
        echo "FAILED ${id} ${log}"
    fi
}
export -f synth_one

echo "$0: synthesising ${n_sentences} sentences with festival voice ${voice} into ${out_dir}" \
    "(${nj} jobs)"
n_done=0 n_made=0 n_kept=0 n_failed=0
while read -r status id rest; do
    n_done=$((n_done + 1))
    case "${status}" in
        made) n_made=$((n_made + 1)); msg="synthesised (${rest}s)" ;;
        kept) n_kept=$((n_kept + 1)); msg="already there" ;;
        *) n_failed=$((n_failed + 1)); msg="FAILED, see ${rest}" ;;
    esac
    echo "  [${n_done}/${n_sentences}] ${id} ${msg}"
done < <(printf '%s\n' "${ids[@]}" \
    | xargs -P "${nj}" -I{} bash -c 'synth_one "$1" "$2" "$3"' _ {} "${out_dir}" "${voice_cmd}")

if [ "${n_failed}" -gt 0 ] || [ "${n_done}" -ne "${n_sentences}" ]; then
    echo "$0: error: ${n_failed} of ${n_sentences} utterances failed (logs in ${work});" \
        "metadata.csv not written. Re-run to retry only the missing ones." >&2
    exit 1
fi

# metadata.csv last and atomically: it only ever lists utterances whose wav is complete.
tmp_meta="${out_dir}/.metadata.csv.tmp"
: > "${tmp_meta}"
for ((i = 0; i < n_sentences; i++)); do
    printf '%s|%s|%s\n' "${ids[i]}" "${lines[i]}" "${lines[i]}" >> "${tmp_meta}"
done
mv "${tmp_meta}" "${out_dir}/metadata.csv"
echo "$0: done: ${n_sentences} utterances (${n_made} synthesised, ${n_kept} reused) in ${out_dir}"

if [ "${n_long}" -gt 0 ]; then
    # The long-form eval set: its own LJSpeech layout, never part of the train/dev/eval split.
    "$0" --voice "${voice}" --nj "${nj}" --auto_install false --id_prefix "${prefix}L" \
        --sentences "${out_dir}/long_sentences.txt" "${out_dir}/long"
fi
