#!/usr/bin/env bash
# Copy a subset of a data dir (Kaldi interface):
#   utils/subset_data_dir.sh --first <src-dir> <N> <dst-dir>    # first N utterances
#   utils/subset_data_dir.sh --last <src-dir> <N> <dst-dir>     # last N utterances
#   utils/subset_data_dir.sh <src-dir> <N> <dst-dir>            # N evenly spaced utterances
#   utils/subset_data_dir.sh --utt-list <file> <src-dir> <dst-dir>
set -euo pipefail
usage="Usage: $0 [--first|--last] <src-dir> <N> <dst-dir> | $0 --utt-list <file> <src-dir> <dst-dir>"
mode=num; uttlist=
while [ "$#" -gt 0 ]; do
  case "$1" in
    --first) mode=first; shift ;;
    --last) mode=last; shift ;;
    --utt-list|--utt_list) [ "$#" -ge 2 ] || { echo "$usage" 1>&2; exit 1; }
      mode=utt-list; uttlist=$2; shift 2 ;;
    -h|--help) echo "$usage" 1>&2; exit 0 ;;
    -*) echo "$0: unknown option $1" 1>&2; echo "$usage" 1>&2; exit 1 ;;
    *) break ;;
  esac
done
if [ "$mode" = utt-list ]; then
  [ "$#" -eq 2 ] || { echo "$usage" 1>&2; exit 1; }
  exec python -m glowtts.data.datadir subset --utt-list "$uttlist" "$1" "$2"
fi
[ "$#" -eq 3 ] || { echo "$usage" 1>&2; exit 1; }
if ! [[ "$2" =~ ^[0-9]+$ ]]; then
  echo "$0: N must be a non-negative integer, got '$2'" 1>&2; exit 1
fi
exec python -m glowtts.data.datadir subset "--$mode" "$2" "$1" "$3"
