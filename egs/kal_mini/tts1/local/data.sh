#!/usr/bin/env bash
# Stage 0 data preparation for kal_mini: slt_mini's local/data.sh (the LJSpeech layout, same
# split rules) with the speaker id KAL.
# Usage: local/data.sh --db_root DIR [--n_dev 250 --n_eval 250 --skip_bad false] <data_dir>
set -euo pipefail
local_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)  # physical: recipes may be reached through links
exec "${local_dir}/../../../slt_mini/tts1/local/data.sh" --spk KAL "$@"
