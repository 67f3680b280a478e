#!/usr/bin/env bash
# Invert utt2spk into spk2utt (speakers and utterances sorted), on stdout.
# Usage: utils/utt2spk_to_spk2utt.sh [<utt2spk>] > spk2utt     (reads stdin without argument)
set -euo pipefail
if [ "$#" -gt 1 ] || [ "${1:-}" = -h ] || [ "${1:-}" = --help ]; then
  echo "Usage: $0 [<utt2spk>] > spk2utt" 1>&2; [ "$#" -gt 1 ] && exit 1; exit 0
fi
exec python -m glowtts.data.datadir utt2spk-to-spk2utt "${1:--}"
