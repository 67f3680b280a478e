#!/usr/bin/env bash
# Kaldi-style option parsing; *source* it after setting defaults:
#
#   nj=4; stage=0; help_message="Usage: $0 [options] <data-dir>"
#   . utils/parse_options.sh || exit 1
#
# Every leading "--foo-bar value" or "--foo_bar value" (also "--foo_bar=value") sets the
# existing shell variable foo_bar; an option whose variable is not set beforehand is an error.
# A variable whose default is true/false only accepts true/false. "--config FILE" sources FILE
# (of "name=value" lines) before the other options are applied, whatever its position.
# "--help" / "-h" prints $help_message and exits 0. Parsing stops at the first non-option
# argument or at "--"; the remaining arguments are left in "$@".

__po_prog=$(basename "$0")

# --config first, so command-line options override what the config file sets.
__po_i=1
while [ "$__po_i" -le "$#" ]; do
  __po_arg=${!__po_i}
  case "$__po_arg" in
    --) break ;;
    --config)
      __po_j=$((__po_i + 1))
      if [ "$__po_j" -gt "$#" ]; then
        echo "$__po_prog: option --config needs a file argument" 1>&2; exit 1
      fi
      __po_cfg=${!__po_j}
      if [ ! -r "$__po_cfg" ]; then
        echo "$__po_prog: config file '$__po_cfg' does not exist or is not readable" 1>&2; exit 1
      fi
      # shellcheck disable=SC1090
      . "$__po_cfg" || { echo "$__po_prog: error sourcing config file '$__po_cfg'" 1>&2; exit 1; }
      __po_i=$((__po_i + 2)) ;;
    --config=*)
      __po_cfg=${__po_arg#--config=}
      if [ ! -r "$__po_cfg" ]; then
        echo "$__po_prog: config file '$__po_cfg' does not exist or is not readable" 1>&2; exit 1
      fi
      # shellcheck disable=SC1090
      . "$__po_cfg" || { echo "$__po_prog: error sourcing config file '$__po_cfg'" 1>&2; exit 1; }
      __po_i=$((__po_i + 1)) ;;
    --*=*) __po_i=$((__po_i + 1)) ;;
    --*) __po_i=$((__po_i + 2)) ;;
    *) break ;;
  esac
done

while [ "$#" -gt 0 ]; do
  case "$1" in
    --help|-h)
      if [ -z "${help_message:-}" ]; then
        echo "$__po_prog: no help message available" 1>&2
      else
        printf '%s\n' "$help_message" 1>&2
      fi
      exit 0 ;;
    --) shift; break ;;
    --config) shift 2 ;;
    --config=*) shift ;;
    --*)
      if [[ "$1" == *=* ]]; then
        __po_name=${1%%=*}; __po_val=${1#*=}; __po_n=1
      else
        if [ "$#" -lt 2 ]; then
          echo "$__po_prog: option $1 needs a value" 1>&2; exit 1
        fi
        __po_name=$1; __po_val=$2; __po_n=2
      fi
      __po_var=${__po_name#--}
      __po_var=${__po_var//-/_}
      if ! [[ "$__po_var" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
        echo "$__po_prog: invalid option $__po_name" 1>&2; exit 1
      fi
      if [ -z "${!__po_var+set}" ]; then
        echo "$__po_prog: invalid option $__po_name (no variable '$__po_var' in this script; see --help)" 1>&2
        exit 1
      fi
      __po_old=${!__po_var}
      if [ "$__po_old" = true ] || [ "$__po_old" = false ]; then
        if [ "$__po_val" != true ] && [ "$__po_val" != false ]; then
          echo "$__po_prog: option $__po_name takes true or false, got '$__po_val'" 1>&2; exit 1
        fi
      fi
      printf -v "$__po_var" '%s' "$__po_val"
      shift "$__po_n" ;;
    *) break ;;
  esac
done

unset __po_prog __po_i __po_j __po_arg __po_cfg __po_name __po_val __po_n __po_var __po_old
true
