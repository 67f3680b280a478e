#!/usr/bin/env bash
# Copy a data dir, optionally renaming ids (Kaldi interface).
# Usage: utils/copy_data_dir.sh [--utt-prefix P] [--utt-suffix S] [--spk-prefix P]
#                               [--spk-suffix S] <src-dir> <dst-dir>
set -euo pipefail
utt_prefix=; utt_suffix=; spk_prefix=; spk_suffix=
help_message="Usage: $0 [--utt-prefix P] [--utt-suffix S] [--spk-prefix P] [--spk-suffix S] <src-dir> <dst-dir>"
. "$(dirname "$0")/parse_options.sh"
if [ "$#" -ne 2 ]; then
  echo "$help_message" 1>&2; exit 1
fi
exec python -m glowtts.data.datadir copy --utt-prefix "$utt_prefix" --utt-suffix "$utt_suffix" \
  --spk-prefix "$spk_prefix" --spk-suffix "$spk_suffix" "$1" "$2"
