#!/usr/bin/env bash
# Check a Kaldi data dir: wav.scp, text, utt2spk, spk2utt present, sorted, no repeated ids,
# the same utterances everywhere, no empty text. Exits 1 listing every problem and the fix.
# Usage: utils/validate_data_dir.sh [--no-text] [--no-wav] <data-dir>
set -euo pipefail
opts=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --no-text|--no_text) opts+=(--no-text); shift ;;
    --no-wav|--no_wav) opts+=(--no-wav); shift ;;
    --no-feats|--no_feats) shift ;;  # Kaldi's option; feats are checked only when present.
    -h|--help) echo "Usage: $0 [--no-text] [--no-wav] <data-dir>" 1>&2; exit 0 ;;
    -*) echo "$0: unknown option $1" 1>&2; exit 1 ;;
    *) break ;;
  esac
done
if [ "$#" -ne 1 ]; then
  echo "Usage: $0 [--no-text] [--no-wav] <data-dir>" 1>&2; exit 1
fi
exec python -m glowtts.data.datadir validate "${opts[@]}" "$1"
