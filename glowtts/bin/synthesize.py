"""glowtts-synthesize: text -> wav with a trained experiment.

One utterance::

    glowtts-synthesize --exp exp/<tag> --text "Hello world." --out hello.wav

Many (one utterance per line of a file, or of stdin with ``-``; blank lines are
skipped), synthesised in length-sorted batches into ``<out_dir>/<n>.wav`` where
``n`` is the line number (1-based)::

    glowtts-synthesize --exp exp/<tag> --text_file sentences.txt --out_dir wavs/
    cat sentences.txt | glowtts-synthesize --exp exp/<tag> --text_file - --out_dir wavs/

``--noise_scale`` / ``--length_scale`` / ``--max_seconds`` default to the experiment's
``decode`` section; out-of-range values are refused before the model loads.
``--durations "d1 d2 ..."`` gives the frames of every model input token (blanks
included when the model uses them; one utterance only). The vocoder is the public
HiFi-GAN universal generator where it is installed and fits the mel, else Griffin-Lim
(``--vocoder griffin_lim`` forces it); ``--vocoder hifigan --vocoder_checkpoint
g_02500000`` uses another generator (``config.json`` beside it, or ``--vocoder_config``).
``--plot`` writes ``<wav>.png`` with the mel and alignment.
``--onnx VOICE_DIR`` (instead of ``--exp``) synthesises with a voice exported by
``glowtts-export --format onnx --out VOICE_DIR`` on onnxruntime
(:mod:`glowtts.synthesis.runtime`; ``python -m glowtts.synthesis.runtime`` runs without torch).
Long text is split at sentence boundaries and joined with a short pause.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import NoReturn

import torch

from ..audio import save_wav
from ..registry import AUTO_VOCODER, vocoder_choices
from ..synthesis.batch_decode import option_type
from ..synthesis.synthesizer import SynthesisError, Synthesizer, plot_utterance

PROG = "glowtts-synthesize"


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model", "--exp", dest="exp", default=None,
        help="voice file (NAME.glowtts, glowtts-pack) or experiment dir (exp/<tag>)",
    )  # fmt: skip
    p.add_argument(
        "--onnx",
        default=None,
        help="instead of --model: a voice dir from glowtts-export (onnxruntime, no torch model)",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--text", help="the text of one utterance")
    src.add_argument("--text_file", help="one utterance per line; '-' reads stdin")
    p.add_argument("--out", default=None, help="output wav for --text (default: out.wav)")
    p.add_argument("--out_dir", default=None, help="output dir for --text_file (<n>.wav per line)")
    p.add_argument(
        "--checkpoint", default=None, help="default: best.pth, else the newest step_*.pth"
    )
    p.add_argument(
        "--noise_scale",
        type=option_type("noise_scale"),
        default=None,
        help="prior temperature in [0, 5] (default: config)",
    )
    p.add_argument(
        "--length_scale",
        type=option_type("length_scale"),
        default=None,
        help="speaking rate in [0.1, 10], >1 slower (default: config)",
    )
    p.add_argument(
        "--max_seconds",
        type=option_type("max_seconds"),
        default=None,
        help="longest audio per text, checked before decoding (default: config, 600)",
    )
    p.add_argument(
        "--durations",
        default=None,
        help='frames per model input token, e.g. "3 5 2 ..." (--text only)',
    )
    p.add_argument("--spk", default=None, help="speaker id or name (multi-speaker models)")
    p.add_argument("--seed", type=int, default=None, help="noise seed (default: random)")
    p.add_argument(
        "--vocoder",
        default=AUTO_VOCODER,
        choices=vocoder_choices(),
        help="vocoder (auto: HiFi-GAN universal if it fits the mel, else Griffin-Lim)",
    )
    p.add_argument(
        "--vocoder_checkpoint",
        default=None,
        help="hifigan generator: universal, ljspeech or a checkpoint file",
    )
    p.add_argument(
        "--vocoder_config",
        default=None,
        help="generator config.json (default: beside the checkpoint)",
    )
    p.add_argument(
        "--griffin_lim_iters", type=int, default=None, help="Griffin-Lim iterations (default 60)"
    )
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    p.add_argument(
        "--num_threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    p.add_argument("--compile", action="store_true", help="torch.compile the model (slow start)")
    p.add_argument(
        "--cuda_graphs", action="store_true", help="replay the model from CUDA graphs (CUDA only)"
    )
    p.add_argument("--plot", action="store_true", help="also write <wav>.png: mel and alignment")
    return p


def _read_lines(path: str) -> list[tuple[int, str]]:
    stream = sys.stdin if path == "-" else open(path, encoding="utf-8")
    try:
        lines = [(n, line.strip()) for n, line in enumerate(stream, 1)]
    finally:
        if stream is not sys.stdin:
            stream.close()
    return [(n, t) for n, t in lines if t]


def _fail(msg: str) -> NoReturn:
    sys.exit(f"{PROG}: {msg}")


def check_args(args: argparse.Namespace) -> list[int] | None:
    """Reject option combinations that do not fit together; the parsed ``--durations``."""
    if args.text is not None and args.out_dir:
        _fail("--text writes --out FILE; --out_dir is for --text_file")
    if args.text_file is not None:
        if args.out:
            _fail("--text_file writes into --out_dir DIR; --out is for --text")
        if not args.out_dir:
            _fail("--text_file needs --out_dir")
        if args.durations:
            _fail("--durations applies to one utterance (--text)")
    if not args.durations:
        return None
    try:
        return [int(x) for x in args.durations.split()]
    except ValueError:
        _fail(f"--durations must be integers, got {args.durations!r}")


def load_synthesizer(args: argparse.Namespace) -> Synthesizer:
    """The experiment with the vocoder the command line asks for."""
    vopts: dict = {}
    if args.vocoder in ("hifigan", AUTO_VOCODER):
        vopts = {"checkpoint": args.vocoder_checkpoint, "config": args.vocoder_config}
    if args.vocoder in ("griffin_lim", AUTO_VOCODER) and args.griffin_lim_iters:
        vopts["n_iter"] = args.griffin_lim_iters  # under auto: chooses Griffin-Lim
    try:
        return Synthesizer.from_exp(
            args.exp,
            args.checkpoint,
            args.device,
            args.vocoder,
            vopts,
            compile=args.compile,
            cuda_graphs=args.cuda_graphs,
            max_seconds=args.max_seconds,
        )
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))


def collect_items(
    args: argparse.Namespace, syn: Synthesizer
) -> tuple[list[tuple[Path, str]], list[int]]:
    """``[(wav path, text)]`` to synthesise and the line numbers skipped (no speakable text)."""
    if args.text is not None:
        return [(Path(args.out or "out.wav"), args.text)], []
    try:
        lines = _read_lines(args.text_file)
    except OSError as e:
        _fail(f"cannot read {args.text_file}: {e}")
    if not lines:
        _fail(f"no text in {args.text_file}")
    items, bad = [], []
    for n, t in lines:
        try:
            syn.split(t)
        except ValueError as e:
            logging.warning("line %d skipped: %s", n, e)
            bad.append(n)
            continue
        items.append((Path(args.out_dir) / f"{n}.wav", t))
    if not items:
        _fail(f"no line of {args.text_file} has text to synthesise")
    return items, bad


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if bool(args.exp) == bool(args.onnx):
        _fail(
            "give --model (a voice file or experiment dir; --exp is the same) or --onnx VOICE_DIR (an export)"
        )
    if args.onnx:
        from ..synthesis.runtime import run_cli

        return run_cli(args)
    if args.num_threads:
        torch.set_num_threads(args.num_threads)
    durations = check_args(args)
    syn = load_synthesizer(args)
    items, bad = collect_items(args, syn)
    try:
        utts = syn.synthesize(
            [t for _, t in items],
            noise_scale=args.noise_scale,
            length_scale=args.length_scale,
            spk=args.spk,
            durations=durations,
            seed=args.seed,
        )
    except (ValueError, SynthesisError) as e:  # SynthesisError: non-finite audio, not written
        _fail(str(e))
    for (path, _), utt in zip(items, utts):
        save_wav(path, utt.wav, utt.sample_rate)
        if args.plot:
            plot_utterance(utt, path.with_suffix(".png"))
        logging.info("wrote %s (%.2f s)", path, len(utt.wav) / utt.sample_rate)
    if bad:
        _fail(f"skipped line(s) {bad} of {args.text_file}: no speakable text")


if __name__ == "__main__":
    main()
