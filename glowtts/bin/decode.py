"""glowtts-decode: text (token ids) -> log-mel for a token file, with a trained experiment.

Writes ``<out_dir>/feats.{ark,scp}`` (float32 ``(T, n_mels)``), ``durations``
(one integer per input token, summing to the frame count) and ``timing``
(``utt seconds frames``). Decoding options default to the ``decode`` section of
the experiment's config; ``--decode_config`` (a YAML with a ``decode`` section)
and the command line override them.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

import kaldiio
from tqdm import tqdm

from ..data.kaldi import atomic_write_text, iter_fields
from ..synthesis.batch_decode import (
    DECODE_DEFAULTS,
    batches_by_length,
    decode_batch,
)
from ..synthesis.loading import Experiment, load_experiment
from ..text import intersperse
from ..utils import (
    INFERENCE_PRECISIONS,
    check_inference_precision,
    describe_precision,
    model_command_parser,
    read_yaml_mapping,
    resolve_device,
    set_num_threads,
    str2bool,
)


def get_parser() -> argparse.ArgumentParser:
    p = model_command_parser("glowtts-decode", __doc__)
    p.add_argument(
        "--token", required=True, help="token id file: 'utt id1 id2 ...' (stage 2 output)"
    )
    p.add_argument("--out_dir", required=True, help="where feats.ark/scp, durations and timing go")
    p.add_argument(
        "--decode_config", default=None, help="YAML whose 'decode' section overrides the exp's"
    )
    p.add_argument("--noise_scale", type=float, default=None, help="prior temperature")
    p.add_argument("--length_scale", type=float, default=None, help="speaking rate (>1 slower)")
    p.add_argument(
        "--batch_size", type=int, default=None, help="utterances per batch (sorted by length)"
    )
    p.add_argument(
        "--durations", default=None, help="teacher durations file 'utt d1 ... dN' (analysis)"
    )
    p.add_argument(
        "--precision",
        default=None,
        choices=INFERENCE_PRECISIONS,
        help="acoustic model precision: fp32, bf16 or auto (bf16 autocast on CPUs with native "
        "bf16); default: decode.precision",
    )
    p.add_argument("--utt2spk", default=None, help="utt2spk for a multi-speaker model")
    p.add_argument(
        "--seed", type=int, default=0, help="noise seed (per utterance: seed + crc32(utt))"
    )
    p.add_argument("--verbose", type=str2bool, default=True)
    return p


def decode_options(args: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """Decode options: the defaults, the exp's ``decode`` section, ``--decode_config``, flags."""
    opts = {**DECODE_DEFAULTS, **(config.get("decode") or {})}
    if args.decode_config:
        opts.update(read_yaml_mapping(args.decode_config).get("decode") or {})
    for key in DECODE_DEFAULTS:
        if getattr(args, key, None) is not None:  # max_seconds has no flag
            opts[key] = getattr(args, key)
    unknown = set(opts) - set(DECODE_DEFAULTS)
    if unknown:
        sys.exit(
            f"glowtts-decode: unknown decode key(s) {sorted(unknown)}; valid: {sorted(DECODE_DEFAULTS)}"
        )
    try:
        check_inference_precision(opts["precision"], "decode.precision")
    except ValueError as e:
        sys.exit(f"glowtts-decode: {e}")
    return opts


def read_inputs(args: argparse.Namespace, exp: Experiment) -> tuple[list, dict | None, dict | None]:
    """``[(utt, model input ids)]``, teacher durations ``{utt: [d]}`` and ``{utt: speaker id}``
    (the last two None unless asked for)."""
    items = []
    for utt, fields in iter_fields(args.token):
        ids = [int(t) for t in fields]
        if not ids:
            sys.exit(f"glowtts-decode: utterance {utt} in {args.token} has no tokens")
        items.append((utt, intersperse(ids) if exp.add_blank else ids))
    teacher = None
    if args.durations:
        teacher = {u: [int(x) for x in f] for u, f in iter_fields(args.durations)}
    spk = None
    if args.utt2spk:
        speakers = exp.speakers()
        if speakers is None:
            sys.exit(f"glowtts-decode: --utt2spk needs {exp.exp_dir}/spk_list.txt (missing)")
        spk_id = {s: i for i, s in enumerate(speakers)}
        spk = {u: spk_id[f[0]] for u, f in iter_fields(args.utt2spk)}
    return items, teacher, spk


def write_outputs(out: Path, results: list[dict[str, Any]]) -> None:
    """``feats.{ark,scp}``, ``durations`` and ``timing`` of the decoded utterances."""
    results = sorted(results, key=lambda r: r["utt"])
    # a re-run overwrites the job's outputs whole; the merge in the recipe reads them after success
    with kaldiio.WriteHelper(f"ark,scp:{out / 'feats.ark'},{out / 'feats.scp'}") as writer:
        for r in results:
            writer(r["utt"], r["mel"])
    atomic_write_text(
        out / "durations",
        "".join(f"{r['utt']} {' '.join(map(str, r['durations']))}\n" for r in results),
    )
    atomic_write_text(
        out / "timing", "".join(f"{r['utt']} {r['seconds']:.6f} {len(r['mel'])}\n" for r in results)
    )


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    set_num_threads(args.num_threads)
    device = resolve_device(args.device)
    exp = load_experiment(args.exp, args.checkpoint, device)
    if device.type == "cpu":
        exp.model.use_channels_last_convs()  # same function, the CPU kernels' fast layout
    logging.info("decoding with %s", exp.checkpoint)
    opts = decode_options(args, exp.config)
    logging.info("acoustic model precision %s", describe_precision(opts["precision"], device))
    items, teacher, spk = read_inputs(args, exp)

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with tqdm(total=len(items), desc="decode", disable=not args.verbose, unit="utt") as bar:
        for batch in batches_by_length(items, int(opts["batch_size"])):
            results += decode_batch(
                exp.model,
                batch,
                device=device,
                noise_scale=float(opts["noise_scale"]),
                length_scale=float(opts["length_scale"]),
                seed=args.seed,
                durations=teacher,
                spk=spk,
                precision=opts["precision"],
            )
            bar.update(len(batch))
    write_outputs(out, results)
    logging.info("decoded %d utterances into %s", len(results), out)


if __name__ == "__main__":
    main()
