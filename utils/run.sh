#!/usr/bin/env bash
# Local job launcher with Kaldi's run.pl interface.
#
#   utils/run.sh [options] JOB=1:N <log-with-JOB> <command> [args with JOB ...]
#   utils/run.sh [options] <log> <command> [args ...]
#
# Every "JOB" in the log path and in the command is replaced by the job number (any variable
# name works: TASK=1:N). Jobs run in parallel, at most --max_jobs_run at a time, each with its
# stdout+stderr in its log, which starts with the command and start time and ends with the
# exit code, end time and elapsed time. Arguments containing whitespace are quoted; a bare
# "\|" or "\>" on our command line becomes a pipe / redirection inside the job.
# Exits 1 if any job failed, after printing the tail of each failing log.
#
# Options (also with "-" instead of "_", and as --opt=value):
#   --max_jobs_run N   parallel jobs (default: nproc)
#   --num_threads N    recorded in the log (accepted for cmd.sh compatibility)
#   --gpu N            N GPUs per job: job k (0-based) gets CUDA_VISIBLE_DEVICES set to the
#                      next N of the machine's GPUs, round robin (the pool is the current
#                      CUDA_VISIBLE_DEVICES, else every GPU nvidia-smi lists); jobs share
#                      GPUs when there are more jobs than GPUs. 0 (default) leaves it alone.
#   --mem X, --time T, --config F   accepted and ignored (queue options)
set -u
prog=$(basename "$0")
# shellcheck source=lib/launcher.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib/launcher.sh"
max_jobs_run=$(nproc 2>/dev/null || echo 1)
num_threads=1
tail_lines=20
gpu=0

usage() {
  echo "Usage: $prog [--max_jobs_run N] [--gpu N] [--mem X] JOB=1:N <log> <command...>" 1>&2
  echo "       $prog [options] <log> <command...>" 1>&2
}

launcher_option() {
  case "$1" in
    max_jobs_run) max_jobs_run=$2 ;;
    num_threads) num_threads=$2 ;;
    gpu) gpu=$2 ;;
    mem|time|config) ;;
    *) return 1 ;;
  esac
}
launcher_parse "$@"
set -- "${launcher_rest[@]}"
if ! [[ "$max_jobs_run" =~ ^[1-9][0-9]*$ ]]; then
  echo "$prog: --max_jobs_run must be a positive integer, got '$max_jobs_run'" 1>&2; exit 1
fi
if ! [[ "$gpu" =~ ^[0-9]+$ ]]; then
  echo "$prog: --gpu must be a non-negative integer, got '$gpu'" 1>&2; exit 1
fi
if [ "$#" -lt 2 ]; then usage; exit 1; fi
gpu_pool=()
if [ "$gpu" -gt 0 ]; then
  if [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
    IFS=, read -r -a gpu_pool <<< "$CUDA_VISIBLE_DEVICES"
  elif command -v nvidia-smi > /dev/null; then
    mapfile -t gpu_pool < <(nvidia-smi --query-gpu=index --format=csv,noheader 2> /dev/null)
  fi
fi
log=$1; shift
launcher_check_log

# Rebuild the command line as one string for bash -c (Kaldi semantics: words without
# whitespace go as they are, others are quoted).
launcher_join_command "$@"

statusdir=$(mktemp -d "${TMPDIR:-/tmp}/run_sh.XXXXXX")
pids=()
cleanup() { rm -rf "$statusdir"; }
on_signal() {
  echo "$prog: interrupted, stopping jobs" 1>&2
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  wait
  cleanup
  exit 130
}
trap on_signal INT TERM

run_job() {
  local j=$1 jlog jcmd start end rc child
  if [ -n "$var" ]; then jlog=${log//$var/$j}; jcmd=${cmd//$var/$j}; else jlog=$log; jcmd=$cmd; fi
  mkdir -p "$(dirname "$jlog")" || { echo 1 > "$statusdir/$j"; return 1; }
  {
    echo "# $jcmd"
    echo "# Started at $(date)"
    echo "#"
  } > "$jlog"
  if [ "${#gpu_pool[@]}" -gt 0 ]; then
    local k devs=() n=${#gpu_pool[@]}
    for ((k = 0; k < gpu && k < n; k++)); do devs+=("${gpu_pool[$(( ((j - first) * gpu + k) % n ))]}"); done
    export CUDA_VISIBLE_DEVICES
    CUDA_VISIBLE_DEVICES=$(IFS=,; echo "${devs[*]}")
    echo "# CUDA_VISIBLE_DEVICES=$CUDA_VISIBLE_DEVICES" >> "$jlog"
  fi
  start=$(date +%s)
  bash -o pipefail -c "$jcmd" < /dev/null >> "$jlog" 2>&1 &
  child=$!
  trap 'kill -TERM "$child" 2>/dev/null' TERM INT
  # a signal interrupts wait; keep waiting until the job has really ended (a trainer
  # writes its checkpoint after SIGTERM), however many signals arrive meanwhile
  wait "$child"; rc=$?
  while kill -0 "$child" 2>/dev/null; do wait "$child"; rc=$?; done
  end=$(date +%s)
  {
    echo "# Accounting: time=$((end - start)) threads=$num_threads"
    echo "# Ended (code $rc) at $(date), elapsed time $((end - start)) seconds"
  } >> "$jlog"
  echo "$rc" > "$statusdir/$j"
  return "$rc"
}

for ((j = first; j <= last; j++)); do
  while [ "$(jobs -rp | wc -l)" -ge "$max_jobs_run" ]; do wait -n; done
  run_job "$j" &
  pids+=($!)
done
wait

failed=()
for ((j = first; j <= last; j++)); do
  rc=$(cat "$statusdir/$j" 2>/dev/null || echo "?")
  if [ "$rc" != 0 ]; then failed+=("$j:$rc"); fi
done
cleanup
n_jobs=$((last - first + 1))
if [ "${#failed[@]}" -eq 0 ]; then exit 0; fi

shown=0
for f in "${failed[@]}"; do launcher_report_failed "${f%%:*}" "${f#*:}"; done
if [ -n "$var" ]; then
  echo "$prog: ${#failed[@]} / $n_jobs jobs failed; logs are in ${log//$var/*}" 1>&2
fi
exit 1
