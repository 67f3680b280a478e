#!/usr/bin/env bash
# The Glow-TTS recipe, written once and reused by every corpus: each
# egs/<corpus>/tts1/run.sh sets its corpus options and calls this file through
# its ./tts.sh link. Every hyper-parameter lives in the YAML (--train_config);
# this script only moves files between stages.
#
# Stages (run.sh --stage N --stop_stage M):
#  -1  download the corpus (or, for an embedded corpus, make it)   -> $db_root
#   0  data prep: Kaldi data dirs train/dev/eval, validated         -> data/<set>/
#   1  log-mel features in nj jobs, utt2num_frames, train stats     -> dump/<set>/feats.scp, dump/train/stats.npy
#   2  token list + token ids (--token_type char|phn|bpe)           -> data/token_list/<type>/, dump/<set>/token
#   3  Glow-TTS training (data-dependent init, MLE + MAS + duration) -> exp/<tag>/
#   4  MAS durations of every set (nj jobs) + the duration predictor refined alone -> exp/<tag>/durations/<set>/durations, exp/<tag>/checkpoints/refined_dp.pth
#   5  batch decoding of the eval sets in nj jobs                   -> exp/<tag>/decode_<set>/feats.scp, durations
#   6  waveforms (--vocoder: auto = HiFi-GAN universal where it fits, else Griffin-Lim) -> exp/<tag>/decode_<set>/wav/
#   7  evaluation report: NLL, MCD, duration error, RTF, pocketsphinx WER and DistillMOS
#      (Griffin-Lim and HiFi-GAN, synthesized and reference)      -> exp/<tag>/report.{json,md}

# The whole script is one brace group: bash parses it completely before running,
# so editing this file while a long stage runs cannot derail the running recipe.
{
set -euo pipefail

log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') (${0##*/}:${BASH_LINENO[0]}) $*"; }
die() { log "ERROR: $*" >&2; exit 1; }

# split_run_merge SCP PART MERGE RUNNER...: split the table SCP into $nj parts (part n
# at PART with JOB replaced by n), run RUNNER (a job runner with its JOB=1:$nj options,
# log and command), then merge the parts' outputs. MERGE: "FROM=TO ..." pairs; FROM is
# a path with JOB, each part's file, all sorted into TO; a FROM starting with '?' may be
# missing in a part.
split_run_merge() {
  local scp=$1 part=$2 specs spec from to n optional
  read -r -a specs <<<"$3"
  shift 3
  local parts=()
  for n in $(seq "$nj"); do parts+=("${part//JOB/$n}"); done
  utils/split_scp.sh "$scp" "${parts[@]}"
  "$@"
  for spec in "${specs[@]}"; do
    from=${spec%%=*} to=${spec#*=} optional=false
    if [ "${from:0:1}" = "?" ]; then from=${from:1} optional=true; fi
    for n in $(seq "$nj"); do
      if [ "$optional" = false ] || [ -f "${from//JOB/$n}" ]; then cat "${from//JOB/$n}"; fi
    done | sort >"$to"
  done
}

# ------------------------------------------------------------------- options
stage=0               # first stage to run
stop_stage=100        # last stage to run
nj=4                  # parallel jobs for feature extraction and decoding
ngpu=0                # GPUs for training (0: CPU; >1: torchrun with DDP)
train_config=conf/train.yaml   # THE config: feats, text, model, train, decode sections
decode_config=        # optional YAML whose 'decode' section overrides the training config's
tag=                  # experiment name (default: the train_config file name + token type)
db_root=              # corpus location (LJSpeech-1.1 layout)
token_type=           # char | phn | bpe (default: text.token_type of the train config)
nbpe=                 # BPE vocabulary size (token_type=bpe; default from the YAML)
train_set=train       # training set name
dev_set=dev           # development set (validation loss during training)
eval_sets="dev eval"  # sets to decode and synthesize
download_dir=         # stage -1 target dir; the corpus appears in it (default: the parent of db_root)
download_opts=        # extra options for local/download.sh (stage -1)
data_opts=            # extra options for local/data.sh (stage 0)
skip_bad=false        # stages 0-2: skip (and log) bad utterances instead of stopping
gpu_inference=false   # stage 5: decode on a GPU
eval_max_utts=0       # stage 7: utterances per set in the report (0: all)
vocoder=auto          # stage 6: auto (HiFi-GAN universal where it fits the mel, else Griffin-Lim) | hifigan | griffin_lim
teacher_forcing=false # stages 5-7: decode with the stage-4 MAS durations (analysis) into decode_<set>_teacher
decode_tag=           # stages 5-7: decode into decode_<set>_<tag>, report into report_<tag>.{json,md}
decode_args=          # extra arguments for glowtts-decode (stage 5; e.g. "--precision bf16")
eval_args=            # extra arguments for glowtts-evaluate (stage 7; e.g. "--mos false")
use_refined_dp=false  # stage 5: decode with the duration predictor refined in stage 4
checkpoint=           # stages 4, 5, 7: checkpoint to decode with (default: best, else newest)
train_args=           # extra arguments for glowtts-train (e.g. "--max_steps 100")
init_from=            # stage 3: fine-tune from this exp dir or checkpoint (with conf/tuning/finetune.yaml)
token_list=           # stage 2: use this tokens.txt (and the frontend.yaml beside it) instead of
                      # making one from the train text (default with --init_from: the source's)
dumpdir=dump          # feature / token dump dir
expdir=exp            # experiment root

help_message=$(cat <<EOH
Usage: $0 [options]   (run from egs/<corpus>/tts1 through its run.sh)
  --stage N --stop_stage M   stages to run (default: $stage .. $stop_stage)
  --nj N                     parallel jobs (default: $nj)
  --ngpu N                   GPUs for training (default: $ngpu)
  --train_config FILE        experiment YAML (default: $train_config)
  --decode_config FILE       YAML with a 'decode' section overriding the training one
  --tag NAME                 experiment name under $expdir/
  --db_root DIR              corpus location
  --token_type char|phn|bpe  text front-end (default: text.token_type of the train config)
  --nbpe N                   BPE vocabulary size
  --skip_bad true|false      skip bad utterances in stages 0-2 with a logged reason
  --gpu_inference true|false decode (stages 4, 5, 7) on a GPU
  --use_refined_dp true|false decode with the stage-4 duration predictor
  --teacher_forcing true|false decode with the stage-4 MAS durations into decode_<set>_teacher
  --decode_tag NAME          stages 5-7 in decode_<set>_NAME and report_NAME.{json,md}, beside
                             the default decoding (e.g. --decode_tag bf16 --decode_args "--precision bf16")
  --init_from EXP|CKPT       stage 3 fine-tunes from a trained voice; stage 2 then takes its
                             token list and front-end unless --token_list says otherwise
  --token_list FILE          stage 2: this tokens.txt and the frontend.yaml beside it
  --train_args / --decode_args / --eval_args "..."  extra options of glowtts-train (stage 3),
                             glowtts-decode (stage 5), glowtts-evaluate (stage 7)
  --vocoder auto|hifigan|griffin_lim  stage-6 vocoder (default: $vocoder: HiFi-GAN universal
                             where installed and fit for the mel, else Griffin-Lim)
EOH
)
. ./path.sh
. ./cmd.sh
. utils/parse_options.sh

[ $# -eq 0 ] || die "unexpected arguments: $*\n$help_message"
# Kaldi-style files (wav.scp, feats.scp) and job commands split on whitespace: refuse such
# paths before any work instead of failing at stage 3. The real path counts (programs see it
# through any link).
for p in "$(pwd -P)" "$dumpdir" "$expdir"; do
  case $p in *[[:space:]]*) die "the path '$p' contains whitespace, which Kaldi-style data files and the job scripts cannot hold (stage 3 would fail). Move or copy the checkout (or this recipe dir) to a path without spaces and run it there, and keep --dumpdir/--expdir free of spaces";; esac
done
[ -f "$train_config" ] || die "train config $train_config not found (--train_config)"
[ -z "$decode_config" ] || [ -f "$decode_config" ] || die "decode config $decode_config not found"
if [ -z "$token_type" ]; then
  token_type=$(python -c "import sys, yaml; print((yaml.safe_load(open(sys.argv[1])).get('text') or {}).get('token_type', 'char'))" "$train_config")
fi
case $token_type in char|phn|bpe) ;; *) die "--token_type must be char, phn or bpe, not '$token_type'";; esac
[ -n "$tag" ] || tag="$(basename "${train_config%.*}")_${token_type}"
exp=$expdir/$tag
decode_suffix=
if [ "$teacher_forcing" = true ]; then decode_suffix=_teacher; fi
if [ -n "$decode_tag" ]; then
  [[ $decode_tag =~ ^[A-Za-z0-9_.-]+$ ]] || die "--decode_tag '$decode_tag': use letters, digits, '_', '-' or '.' only (it names decode_<set>_<tag>)"
  decode_suffix+=_$decode_tag
fi
token_dir=data/token_list/$token_type
all_sets=$(echo "$train_set $dev_set $eval_sets" | tr ' ' '\n' | awk 'NF && !seen[$0]++')

# ------------------------------------------------------------------- stages
if [ $stage -le -1 ] && [ $stop_stage -ge -1 ]; then
  [ -n "$download_dir" ] || download_dir=$(dirname "${db_root:?--db_root or --download_dir is required for stage -1}")
  log "stage -1: corpus -> $download_dir"
  [ -x local/download.sh ] || die "this recipe has no local/download.sh"
  # shellcheck disable=SC2086
  local/download.sh $download_opts "$download_dir"
fi

if [ $stage -le 0 ] && [ $stop_stage -ge 0 ]; then
  log "stage 0: data prep from ${db_root:?--db_root is required for stage 0 (the corpus location)}"
  # shellcheck disable=SC2086
  local/data.sh --db_root "$db_root" --skip_bad "$skip_bad" $data_opts data
  for s in $all_sets; do
    utils/validate_data_dir.sh "data/$s"
    log "  data/$s: $(wc -l <"data/$s/text") utterances"
  done
fi

if [ $stage -le 1 ] && [ $stop_stage -ge 1 ]; then
  log "stage 1: log-mel features ($nj jobs)"
  for s in $all_sets; do
    [ -f "data/$s/wav.scp" ] || die "data/$s/wav.scp missing: run stage 0 first"
    out=$dumpdir/$s
    mkdir -p "$out/log" "$out/split$nj"
    skip=()
    if [ "$skip_bad" = true ]; then skip=(--skip_bad --skipped_list "$out/split$nj/skipped.JOB"); fi
    # shellcheck disable=SC2086
    split_run_merge "data/$s/wav.scp" "$out/split$nj/wav.JOB.scp" \
      "$out/split$nj/feats.JOB.scp=$out/feats.scp $out/split$nj/utt2num_frames.JOB=$out/utt2num_frames" \
      ${train_cmd} JOB=1:"$nj" "$out/log/extract.JOB.log" \
        glowtts-extract-feats --config "$train_config" --no_progress "${skip[@]}" \
          --wav_scp "$out/split$nj/wav.JOB.scp" \
          --out_ark "$(pwd)/$out/split$nj/feats.JOB.ark" --out_scp "$out/split$nj/feats.JOB.scp" \
          --out_utt2num_frames "$out/split$nj/utt2num_frames.JOB"
    log "  $out: $(wc -l <"$out/feats.scp") of $(wc -l <"data/$s/wav.scp") utterances"
  done
  glowtts-compute-stats --feats_scp "$dumpdir/$train_set/feats.scp" --out "$dumpdir/$train_set/stats.npy"
fi

if [ $stage -le 2 ] && [ $stop_stage -ge 2 ]; then
  log "stage 2: token list ($token_type) and token ids"
  if [ -z "$token_list" ] && [ -n "$init_from" ]; then
    # a fine-tuned model must read the ids its source was trained with
    src=$init_from
    [ -d "$src" ] || src=$(dirname "$(dirname "$src")")  # <exp>/checkpoints/<name>.pth
    token_list=$src/tokens.txt
  fi
  if [ -n "$token_list" ]; then
    src_dir=$(dirname "$token_list")
    [ -f "$token_list" ] && [ -f "$src_dir/frontend.yaml" ] \
      || die "--token_list $token_list: need that file and frontend.yaml beside it (an experiment dir or data/token_list/<type> holds both)"
    # Frontend.save copies what the front-end needs (tokens, BPE model, lexicon) into token_dir
    python - "$src_dir" "$token_dir" "$token_type" <<'PY' || die "--token_list $token_list: see the error above"
import sys
from glowtts.text.frontend import Frontend
fe = Frontend.from_file(sys.argv[1])
if fe.token_type != sys.argv[3]:
    sys.exit(f"{sys.argv[1]}/frontend.yaml is a '{fe.token_type}' front-end, not '{sys.argv[3]}': pass --token_type {fe.token_type}")
fe.save(sys.argv[2])
PY
    log "  token list and front-end from $src_dir (not made from data/$train_set/text)"
  else
    opts=()
    [ -z "$nbpe" ] || opts+=(--nbpe "$nbpe")
    # --skip_bad true: utterances with no letter/digit or with foreign characters are dropped and
    # listed in $token_dir/skipped and $dumpdir/<set>/token.skipped
    glowtts-make-token-list --config "$train_config" --token_type "$token_type" "${opts[@]}" \
      --text "data/$train_set/text" --out_dir "$token_dir" --skip_bad "$skip_bad"
  fi
  for s in $all_sets; do
    mkdir -p "$dumpdir/$s"
    glowtts-tokenize --frontend "$token_dir/frontend.yaml" --text "data/$s/text" --out "$dumpdir/$s/token" \
      --skip_bad "$skip_bad"
  done
  log "  $(wc -l <"$token_dir/tokens.txt") tokens in $token_dir/tokens.txt"
fi

if [ $stage -le 3 ] && [ $stop_stage -ge 3 ]; then
  log "stage 3: training -> $exp (ngpu=$ngpu)"
  mkdir -p "$exp"
  init_opt=()
  [ -z "$init_from" ] || init_opt=(--init_from "$init_from")
  launcher=(glowtts-train)
  device=cpu
  if [ "$ngpu" -gt 0 ]; then device=cuda; fi
  if [ "$ngpu" -gt 1 ]; then
    # one process per GPU; multi-node: put torchrun's --nnodes/--rdzv_* options in torchrun_opts (cmd.sh)
    rdzv=(--standalone)
    # shellcheck disable=SC2206
    [ -z "${torchrun_opts:-}" ] || rdzv=(${torchrun_opts})
    launcher=(torchrun "${rdzv[@]}" --nproc_per_node "$ngpu" "$(command -v glowtts-train)")
  fi
  # shellcheck disable=SC2086
  ${cuda_cmd} --gpu "$ngpu" "$exp/train.stdout.log" \
    "${launcher[@]}" --config "$train_config" --device "$device" \
      --train_dir "$dumpdir/$train_set" --dev_dir "$dumpdir/$dev_set" \
      --token_list "$token_dir/tokens.txt" --stats "$dumpdir/$train_set/stats.npy" \
      --train_utt2spk "data/$train_set/utt2spk" --dev_utt2spk "data/$dev_set/utt2spk" \
      --exp "$exp" "${init_opt[@]}" $train_args
fi

if [ $stage -le 4 ] && [ $stop_stage -ge 4 ]; then
  device=cpu
  gpu_opt=0
  if [ "$gpu_inference" = true ]; then device=cuda; gpu_opt=1; fi
  ckpt_opt=()
  [ -z "$checkpoint" ] || ckpt_opt=(--checkpoint "$checkpoint")
  for s in $all_sets; do
    dir=$exp/durations/$s
    log "stage 4: MAS durations of $s ($nj jobs, $device) -> $dir"
    [ -f "$dumpdir/$s/token" ] || die "$dumpdir/$s/token missing: run stage 2 first"
    [ -f "$dumpdir/$s/feats.scp" ] || die "$dumpdir/$s/feats.scp missing: run stage 1 first"
    rm -rf "$dir/split$nj" "$dir/plots"
    mkdir -p "$dir/log" "$dir/split$nj" "$dir/plots"
    merge=""
    for f in durations durations.per_token skipped; do merge+=" $dir/split$nj/JOB/$f=$dir/$f"; done
    # shellcheck disable=SC2086
    split_run_merge "$dumpdir/$s/token" "$dir/split$nj/token.JOB" "$merge" \
      ${decode_cmd} --gpu "$gpu_opt" JOB=1:"$nj" "$dir/log/extract.JOB.log" \
        glowtts-extract-durations --exp "$exp" --data_dir "$dumpdir/$s" \
          --utt_list "$dir/split$nj/token.JOB" --out_dir "$dir/split$nj/JOB" \
          --utt2spk "data/$s/utt2spk" --device "$device" --n_plots 2 --verbose false "${ckpt_opt[@]}"
    cp "$dir/split$nj/1/info.yaml" "$dir/info.yaml"
    find "$dir/split$nj" -name '*.png' -exec cp {} "$dir/plots/" \;
    log "  $dir/durations: $(wc -l <"$dir/durations") utterances ($(wc -l <"$dir/skipped") skipped)"
  done
  log "stage 4: duration predictor on $train_set -> $exp/duration/, $exp/checkpoints/refined_dp.pth"
  mkdir -p "$exp/duration"
  ${cuda_cmd} --gpu "$gpu_opt" "$exp/duration/train.stdout.log" \
    glowtts-train-duration --exp "$exp" --device "$device" "${ckpt_opt[@]}" \
      --train_dir "$dumpdir/$train_set" --train_durations "$exp/durations/$train_set/durations" \
      --dev_dir "$dumpdir/$dev_set" --dev_durations "$exp/durations/$dev_set/durations"
  log "  $(grep -o 'dev dur_loss .*' "$exp/duration/train.log" | tail -n 1)"
fi

if [ $stage -le 5 ] && [ $stop_stage -ge 5 ]; then
  if [ -z "$checkpoint" ] && [ "$use_refined_dp" = true ]; then
    [ -f "$exp/checkpoints/refined_dp.pth" ] || die "$exp/checkpoints/refined_dp.pth missing: run stage 4 or pass --use_refined_dp false"
    checkpoint=$exp/checkpoints/refined_dp.pth
  fi
  device=cpu
  if [ "$gpu_inference" = true ]; then device=cuda; fi
  for s in $eval_sets; do
    dir=$exp/decode_$s$decode_suffix
    log "stage 5: decoding $s ($nj jobs, $device) -> $dir"
    [ -f "$dumpdir/$s/token" ] || die "$dumpdir/$s/token missing: run stage 2 first"
    rm -rf "$dir/split$nj"
    mkdir -p "$dir/log" "$dir/split$nj"
    opts=()
    [ -z "$decode_config" ] || opts+=(--decode_config "$decode_config")
    [ -z "$checkpoint" ] || opts+=(--checkpoint "$checkpoint")
    if [ "$teacher_forcing" = true ]; then
      [ -f "$exp/durations/$s/durations" ] || die "$exp/durations/$s/durations missing: run stage 4 first"
      opts+=(--durations "$exp/durations/$s/durations")
    fi
    if [ -f "$exp/spk_list.txt" ]; then
      # multi-speaker model: every utterance is decoded with its own speaker
      [ -f "data/$s/utt2spk" ] || die "data/$s/utt2spk missing: a multi-speaker model needs it (run stage 0)"
      opts+=(--utt2spk "data/$s/utt2spk")
    fi
    gpu_opt=0
    if [ "$gpu_inference" = true ]; then gpu_opt=1; fi
    merge=""  # '?': a part without durations (or timing) is fine
    for f in feats.scp durations timing; do merge+=" ?$dir/split$nj/JOB/$f=$dir/$f"; done
    # shellcheck disable=SC2086
    split_run_merge "$dumpdir/$s/token" "$dir/split$nj/token.JOB" "$merge" \
      ${decode_cmd} --gpu "$gpu_opt" JOB=1:"$nj" "$dir/log/decode.JOB.log" \
        glowtts-decode --exp "$exp" --token "$dir/split$nj/token.JOB" \
          --out_dir "$dir/split$nj/JOB" --device "$device" --verbose false "${opts[@]}" $decode_args
    log "  $dir: $(wc -l <"$dir/feats.scp") utterances decoded"
  done
fi

if [ $stage -le 6 ] && [ $stop_stage -ge 6 ]; then
  for s in $eval_sets; do
    dir=$exp/decode_$s$decode_suffix
    log "stage 6: waveforms (--vocoder $vocoder) for $s -> $dir/wav"
    [ -f "$dir/feats.scp" ] || die "$dir/feats.scp missing: run stage 5 first"
    rm -f "$dir/wav/vocoder"
    glowtts-vocode --config "$exp/config.yaml" --feats_scp "$dir/feats.scp" --out_dir "$dir/wav" \
      --vocoder "$vocoder" --num_threads "$nj" --no_progress
    # glowtts-vocode writes the name of the vocoder it used (auto resolved) into wav/vocoder
    log "  $(find "$dir/wav" -name '*.wav' | wc -l) wavs in $dir/wav, vocoder: $(cat "$dir/wav/vocoder")"
  done
fi

if [ $stage -le 7 ] && [ $stop_stage -ge 7 ]; then
  log "stage 7: evaluation report -> $exp/report$decode_suffix.md"
  device=cpu
  if [ "$gpu_inference" = true ]; then device=cuda; fi
  opts=()
  [ -z "$checkpoint" ] || opts+=(--checkpoint "$checkpoint")
  # shellcheck disable=SC2086
  glowtts-evaluate --exp "$exp" --sets "$eval_sets" --data_dir data --dump_dir "$dumpdir" \
    --max_utts "$eval_max_utts" --device "$device" --num_threads "$nj" --verbose false \
    --decode_suffix "$decode_suffix" "${opts[@]}" $eval_args
fi

log "done: stages $stage..$stop_stage (exp: $exp)"
exit 0
}
