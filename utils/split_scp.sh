#!/usr/bin/env bash
# Split an scp-like file into N contiguous parts of (almost) equal size, as Kaldi's
# utils/split_scp.pl does. More parts than lines is allowed: the extra parts are empty files.
# Usage: utils/split_scp.sh <in.scp> <out.1.scp> ... <out.N.scp>
set -euo pipefail
if [ "$#" -lt 2 ] || [ "${1:0:1}" = - ]; then
  echo "Usage: $0 <in.scp> <out.1.scp> [<out.2.scp> ...]" 1>&2; exit 1
fi
exec python -m glowtts.data.datadir split-scp "$@"
