# shellcheck shell=bash
# The Kaldi launcher contract shared by utils/run.sh and utils/slurm.sh (sourced, not run).
# Functions read and set the callers' globals: prog, var, first, last, log, cmd,
# tail_lines, shown.

# launcher_job_range ARG: when ARG is VAR=A:B (or VAR=A), set var/first/last and return 0.
launcher_job_range() {
  if [[ "$1" =~ ^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+):([0-9]+)$ ]]; then
    var=${BASH_REMATCH[1]}; first=${BASH_REMATCH[2]}; last=${BASH_REMATCH[3]}
    if [ "$first" -gt "$last" ]; then
      echo "$prog: empty job range $var=$first:$last" 1>&2; exit 1
    fi
    return 0
  elif [[ "$1" =~ ^([A-Za-z_][A-Za-z0-9_]*)=([0-9]+)$ ]]; then
    var=${BASH_REMATCH[1]}; first=${BASH_REMATCH[2]}; last=$first
    return 0
  fi
  return 1
}

# launcher_parse ARG...: the options ("--name value", "--name=value", dashes or
# underscores) and the VAR=A:B range, in any order before the log file (as in Kaldi). Each
# option goes to the caller's launcher_option NAME VALUE (NAME without the dashes, with
# underscores), which returns 1 for an unknown one; a name in launcher_flags may come
# without a value (meaning true). Sets var/first/last, and launcher_rest to the log file and
# command that follow.
launcher_parse() {
  var=; first=1; last=1
  local opt val n
  while [ "$#" -gt 0 ]; do
    if launcher_job_range "$1"; then shift; continue; fi
    case "$1" in
      -h|--help) usage; exit 0 ;;
      --*=*) opt=${1%%=*}; val=${1#*=}; n=1 ;;
      --*) opt=$1; val=${2-}; n=2 ;;
      *) break ;;
    esac
    opt=${opt#--}; opt=${opt//-/_}
    if [ "$n" -eq 2 ] && [[ " ${launcher_flags-} " == *" $opt "* ]] \
        && [ "$val" != true ] && [ "$val" != false ]; then
      val=true; n=1
    elif [ "$n" -eq 2 ] && [ "$#" -lt 2 ]; then
      echo "$prog: option $1 needs a value" 1>&2; exit 1
    fi
    if ! launcher_option "$opt" "$val"; then
      echo "$prog: unknown option ${1%%=*}" 1>&2; usage; exit 1
    fi
    shift "$n"
  done
  launcher_rest=("$@")
}

# launcher_check_log: a job array's log name must contain the job variable.
launcher_check_log() {
  if [ -n "$var" ] && [[ "$log" != *"$var"* ]] && [ "$first" -ne "$last" ]; then
    echo "$prog: the log file name '$log' must contain $var for a job array" 1>&2; exit 1
  fi
}

# launcher_join_command WORD...: the command as one string for bash -c (Kaldi semantics:
# words without whitespace go as they are, others are quoted) -> cmd.
launcher_join_command() {
  cmd=
  local a
  for a in "$@"; do
    if [[ "$a" =~ ^[^[:space:]]+$ ]]; then cmd+="$a "; else cmd+="$(printf '%q' "$a") "; fi
  done
  cmd=${cmd% }
}

# launcher_report_failed J RC: the first three failures show their log's tail, the rest
# only where the log is.
launcher_report_failed() {
  local j=$1 rc=$2 jlog what
  if [ -n "$var" ]; then jlog=${log//$var/$j}; what="job $j"; else jlog=$log; what="command"; fi
  if [ "$shown" -lt 3 ]; then
    echo "$prog: $what failed with exit code $rc; last $tail_lines lines of $jlog:" 1>&2
    tail -n "$tail_lines" "$jlog" 2>/dev/null | sed 's/^/  | /' 1>&2
  else
    echo "$prog: $what failed with exit code $rc; log is in $jlog" 1>&2
  fi
  shown=$((shown + 1))
}
