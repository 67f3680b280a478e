#!/usr/bin/env bash
# Stage 0 data preparation for slt_kal_mini: one set of Kaldi data dirs with both speakers.
#
# Usage: local/data.sh --db_root DIR [--n_dev 250 --n_eval 250 --skip_bad false
#                      --text_field raw] <data_dir>
#   --db_root DIR   holds slt/ and kal/, each in the LJSpeech-1.1 layout (stage -1 makes it)
# Each voice is prepared by egs/ljspeech/tts1/local/data.sh with its speaker id (SLT, KAL;
# the options above go to it unchanged), so the split is per speaker: with fewer than
# 10*(n_dev+n_eval) sentences each speaker holds out max(1, N/10) dev then eval utterances
# from the end of its list (6 sentences: 4/1/1, 100: 80/10/10). The two speakers' sets are
# then merged: <data_dir>/{train,dev,eval}/{wav.scp,text,utt2spk,spk2utt}, sorted by id.
# Ids start with the speaker id (KAL0001, SLT0001), so utterances and speakers sort alike.
set -euo pipefail
export LC_ALL=C  # Kaldi's byte-order sort

db_root=""
n_dev=250
n_eval=250
skip_bad=false
text_field=raw
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
. "${local_dir}/../../../../utils/lib/script.sh"
. "${repo_root}/utils/parse_options.sh"
expect_args 1 "<data_dir>" $#
data_dir=$1
require_option db_root "${db_root}" "the dir holding slt/ and kal/\
 (e.g. downloads/slt_kal_mini); run stage -1 first to make the corpus"
for voice in slt kal; do
    if [ ! -f "${db_root}/${voice}/metadata.csv" ]; then
        echo "$0: error: ${db_root}/${voice}/metadata.csv not found: --db_root must hold slt/" \
            "and kal/ made by stage -1 (./run.sh --stage -1 --stop_stage -1)" >&2
        exit 1
    fi
done

lj_data="${local_dir}/../../../ljspeech/tts1/local/data.sh"
mkdir -p "${data_dir}"
work=$(mktemp -d "${data_dir}/.slt_kal.XXXXXX")
trap 'rm -rf "${work}"' EXIT
for voice in slt kal; do
    spk=$(echo "${voice}" | tr '[:lower:]' '[:upper:]')
    "${lj_data}" --db_root "${db_root}/${voice}" --spk "${spk}" --n_dev "${n_dev}" \
        --n_eval "${n_eval}" --skip_bad "${skip_bad}" --text_field "${text_field}" \
        "${work}/${voice}"
done
# Merge into scratch dirs first and swap them in last, so a failure leaves data/ as it was.
for s in train dev eval; do
    mkdir -p "${work}/merged/${s}"
    for f in wav.scp text utt2spk spk2utt; do
        cat "${work}/slt/${s}/${f}" "${work}/kal/${s}/${f}" | sort > "${work}/merged/${s}/${f}"
    done
done
for s in train dev eval; do
    rm -rf "${data_dir:?}/${s}"
    mv "${work}/merged/${s}" "${data_dir}/${s}"
    echo "$0: ${data_dir}/${s}: $(wc -l < "${data_dir}/${s}/text") utterances," \
        "speakers $(cut -d' ' -f1 "${data_dir}/${s}/spk2utt" | tr '\n' ' ')"
done
