"""glowtts-evaluate: the evaluation report of an experiment (recipe stage 7).

Example (from ``egs/<corpus>/tts1``)::

    glowtts-evaluate --exp exp/<tag> --sets "dev eval" --data_dir data --dump_dir dump

writes ``exp/<tag>/report.json``, ``exp/<tag>/report.md`` and plots in
``exp/<tag>/report/``: NLL per frame and channel, MCD (DTW) of decoded vs reference mels,
duration error against MAS, real-time factors of mel generation and of the vocoder, and
pocketsphinx WER of synthesized speech, reference recordings and the reference mels
through the vocoder (Griffin-Lim unless --vocoder says otherwise), the same through each
of --vocoders (Griffin-Lim and HiFi-GAN), and a naturalness estimate (DistillMOS) of each
of those audio sets ("skipped: <reason>" where DistillMOS or HiFi-GAN is not installed).
``--decode_suffix _bf16`` evaluates ``decode_<set>_bf16/`` instead (a second decoding of
the same model, e.g. the recipe's ``--decode_tag bf16``) into ``report_bf16.{json,md}``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from glowtts.evaluation.metrics import COMPARE_VOCODERS
from glowtts.utils import add_exp_option, command_parser, str2bool


def _score_cache(value: str | None, dump_dir: str) -> str | None:
    """``--score_cache``: the default file in the dump dir, ``none`` for none."""
    if value is None:
        return str(Path(dump_dir) / "score_cache.jsonl")
    return None if value.lower() == "none" else value


def _asr_jobs(value: int | None, num_threads: int) -> int:
    """``--asr_jobs``: as many as torch threads by default; 0 (either): every core."""
    n = num_threads if value is None else value
    return n if n > 0 else (os.cpu_count() or 1)


def get_parser() -> argparse.ArgumentParser:
    p = command_parser("glowtts-evaluate", __doc__)
    add_exp_option(p, "experiment dir (config.yaml, decode_<set>/)", dest="exp_dir")
    p.add_argument("--sets", default="dev eval", help="space-separated sets to evaluate")
    p.add_argument(
        "--data_dir", default="data", help="Kaldi data dirs: <data_dir>/<set>/{text,wav.scp}"
    )
    p.add_argument("--dump_dir", default="dump", help="<dump_dir>/<set>/{feats.scp,token}")
    p.add_argument(
        "--asr", type=str2bool, default=True, help="pocketsphinx WER (needs glowtts[eval])"
    )
    p.add_argument("--nll", type=str2bool, default=True, help="NLL of the reference features")
    p.add_argument(
        "--score_cache",
        default=None,
        help="JSON-lines file of ASR and MOS scores by audio content, so the reference audio "
        "of a set is scored once for every experiment (default: <dump_dir>/score_cache.jsonl; "
        "'none': no cache)",
    )
    p.add_argument("--max_utts", type=int, default=0, help="utterances per set (0: all)")
    p.add_argument("--n_coeffs", type=int, default=24, help="MCD: cepstral coefficients c1..cD")
    p.add_argument("--long_chars", type=int, default=250, help="WER subset: text longer than this")
    p.add_argument(
        "--vocoder", default="griffin_lim", help="vocoder for its RTF and vocoded-ref WER"
    )
    p.add_argument(
        "--vocoders",
        default=" ".join(COMPARE_VOCODERS),
        help="vocoders compared on the decoded and reference mels (WER, naturalness)",
    )
    p.add_argument(
        "--mos", type=str2bool, default=True, help="naturalness estimate (DistillMOS) per audio set"
    )
    p.add_argument("--vocoder_checkpoint", default=None, help="generator checkpoint (hifigan)")
    p.add_argument(
        "--vocoder_rtf_utts", type=int, default=3, help="utterances timed for vocoder RTF"
    )
    p.add_argument(
        "--durations_dir", default=None, help="MAS durations root (default <exp_dir>/durations)"
    )
    p.add_argument(
        "--decode_suffix",
        default="",
        help="evaluate <exp>/decode_<set><SUFFIX> (e.g. _bf16) into report<SUFFIX>.{json,md}",
    )
    p.add_argument("--checkpoint", default=None, help="for the NLL (default: best, else newest)")
    p.add_argument("--batch_size", type=int, default=8, help="NLL batch size")
    p.add_argument("--device", default="cpu", help="torch device for the NLL and the vocoder")
    p.add_argument("--num_threads", type=int, default=1, help="torch CPU threads (0: default)")
    p.add_argument(
        "--asr_jobs",
        type=int,
        default=None,
        help="pocketsphinx processes, one core each (default: --num_threads; 0: every core)",
    )
    p.add_argument("--verbose", type=str2bool, default=True, help="tqdm progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s: %(message)s")
    args = get_parser().parse_args(argv)
    import torch

    from glowtts.evaluation.report import EvalOptions, MissingInputError, evaluate, write_report

    if args.num_threads > 0:
        torch.set_num_threads(args.num_threads)
    sets = args.sets.split()
    if not sets:
        print("glowtts-evaluate: error: --sets is empty", file=sys.stderr)
        return 2
    if not all(c.isalnum() or c in "_-." for c in args.decode_suffix):
        print(
            f"glowtts-evaluate: error: --decode_suffix {args.decode_suffix!r}: use letters,"
            " digits, '_', '-' or '.' only (it names decode_<set><SUFFIX> inside --exp)",
            file=sys.stderr,
        )
        return 2
    opts = EvalOptions(
        asr=args.asr,
        nll=args.nll,
        max_utts=args.max_utts,
        n_coeffs=args.n_coeffs,
        long_chars=args.long_chars,
        vocoder=args.vocoder,
        vocoders=tuple(args.vocoders.split()),
        mos=args.mos,
        vocoder_rtf_utts=args.vocoder_rtf_utts,
        vocoder_options={"checkpoint": args.vocoder_checkpoint}
        if args.vocoder_checkpoint
        else None,
        batch_size=args.batch_size,
        device=args.device,
        checkpoint=args.checkpoint,
        durations_dir=args.durations_dir,
        decode_suffix=args.decode_suffix,
        score_cache=_score_cache(args.score_cache, args.dump_dir),
        asr_jobs=_asr_jobs(args.asr_jobs, args.num_threads),
        progress=args.verbose,
    )
    try:
        report = evaluate(args.exp_dir, sets, args.data_dir, args.dump_dir, opts)
        json_path, md_path = write_report(report, args.exp_dir, f"report{args.decode_suffix}")
    except (MissingInputError, ImportError, ValueError, OSError) as e:
        print(f"glowtts-evaluate: error: {e}", file=sys.stderr)
        return 1
    logging.getLogger("glowtts-evaluate").info("wrote %s and %s", json_path, md_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
