#!/usr/bin/env bash
# Make a data dir valid: keep utterances present in every file, drop repeated ids and empty
# text, sort, regenerate spk2utt. Originals and removed lines go to <data-dir>/.backup/ on the
# first run; a later run never overwrites them and uses the first free .backup.1/, .backup.2/...
# (so .backup/ always holds the data dir as it was before the first fix).
# Usage: utils/fix_data_dir.sh <data-dir>
set -euo pipefail
if [ "$#" -ne 1 ] || [ "${1:0:1}" = - ]; then
  echo "Usage: $0 <data-dir>" 1>&2; exit 1
fi
exec python -m glowtts.data.datadir fix "$1"
