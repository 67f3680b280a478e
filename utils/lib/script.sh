# shellcheck shell=bash
# The preamble shared by the recipes' local/*.sh and the utils scripts (sourced, not run),
# before utils/parse_options.sh:
#   help_message      the script's leading comment block (after the #! line), unless set
#   repo_root         the repository root, as a physical path
#   PYTHON            $PYTHON if set, else the repo's tools/venv/bin/python, else python3
#   usage_error MSG   the help, then "<script>: error: MSG", on stderr; exit 1
#   expect_args N WHAT GOT   usage_error unless GOT (pass $#) equals N; WHAT names them
#   require_option NAME VALUE HINT   "<script>: error: --NAME is required: HINT" on stderr
#                     and exit 1 when VALUE is empty (no help: HINT says what to pass)

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
if [ -z "${help_message:-}" ]; then
  help_message=$(awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0")
fi
if [ -z "${PYTHON:-}" ]; then
  PYTHON=python3
  [ -x "${repo_root}/tools/venv/bin/python" ] && PYTHON="${repo_root}/tools/venv/bin/python"
fi

usage_error() {
  printf '%s\n' "${help_message}" >&2
  echo "$(basename "$0"): error: $1" >&2
  exit 1
}

expect_args() {
  local n=$1 what=$2 got=$3 count="$1 arguments"
  [ "${got}" -eq "${n}" ] && return 0
  [ "${n}" -eq 1 ] && count="exactly one argument"
  usage_error "expected ${count} ${what}, got ${got}"
}

require_option() {
  [ -n "$2" ] && return 0
  echo "$0: error: --$1 is required: $3" >&2
  exit 1
}
