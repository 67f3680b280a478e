"""glowtts-export: a trained experiment's text-to-mel model as TorchScript or ONNX.

::

    glowtts-export --exp exp/<tag> --format torchscript --out model.pt
    glowtts-export --exp exp/<tag> --format onnx --out model.onnx
    glowtts-export --exp exp/<tag> --format onnx --out voice_onnx \\
        [--vocoder hifigan [--vocoder_checkpoint universal|ljspeech|FILE]]   # ids -> waveform

The graph takes ``tokens`` (B, T_text) int64, ``token_lengths`` (B,) int64, ``noise``
(B, n_mels, T_noise) float32 (standard normal; the first T_mel frames are used),
``noise_scale`` and ``length_scale`` (0-dim float32)[, ``spk`` (B,) int64] and returns
``mel`` (B, T_mel, n_mels), ``mel_lengths`` (B,), ``durations`` (B, T_text)[, ``wav``
(B, T_wav), ``wav_lengths`` (B,) with a vocoder]; every length is dynamic and durations
are predicted inside. ``<out>.json`` beside it records the input/output names, the mel
definition (``feats``), the text front-end (``text``, with ``add_blank``: the caller
intersperses blanks) and the token list.

An ``--out`` that does not end in ``.onnx``/``.pt`` is a voice directory for the
torch-free runtime (:mod:`glowtts.synthesis.runtime`, ``glowtts-synthesize --onnx DIR``):
``model.onnx``, ``config.json`` (the ``.json`` above), ``frontend.yaml`` + ``tokens.txt``
and ``spk_list.txt`` for a multi-speaker model. See :mod:`glowtts.synthesis.export`.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from ..synthesis.export import FORMATS, ONNX_OPSET, export_model, export_voice_dir
from ..synthesis.loading import load_experiment
from ..text import TokenList
from ..utils import add_checkpoint_option, add_exp_option, command_parser, format_speakers

FILE_SUFFIXES = (".onnx", ".pt")


def get_parser() -> argparse.ArgumentParser:
    p = command_parser("glowtts-export", __doc__)
    add_exp_option(
        p,
        "voice file (NAME.glowtts, glowtts-pack) or experiment dir (exp/<tag>)",
        names=("--model", "--exp"),
    )
    add_checkpoint_option(p)
    p.add_argument("--format", default="torchscript", choices=FORMATS, help="output format")
    p.add_argument(
        "--out",
        help="output file (model.pt / model.onnx), or a voice directory (ONNX; any other name)",
    )
    p.add_argument(
        "--list_speakers", action="store_true", help="print the voice's speakers and exit"
    )
    p.add_argument("--opset", type=int, default=ONNX_OPSET, help="ONNX opset (>= 17)")
    p.add_argument(
        "--vocoder",
        default=None,
        choices=["hifigan"],
        help="append a vocoder to the graph (ids -> waveform)",
    )
    p.add_argument(
        "--vocoder_checkpoint",
        default=None,
        help="HiFi-GAN generator: universal (default), ljspeech or a checkpoint file",
    )
    p.add_argument(
        "--vocoder_config", default=None, help="its config.json (default: beside the checkpoint)"
    )
    return p


def _load_vocoder(args: argparse.Namespace):
    """The HiFi-GAN generator to append, or None; exits with a message on bad options."""
    if args.vocoder is None:
        if args.vocoder_checkpoint:
            sys.exit("glowtts-export: --vocoder_checkpoint needs --vocoder hifigan")
        return None
    from ..vocoders.hifigan import DEFAULT_GENERATOR, load_generator

    try:
        gen, _ = load_generator(args.vocoder_checkpoint or DEFAULT_GENERATOR, args.vocoder_config)
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"glowtts-export: {e}")
    return gen


def _list_speakers(args: argparse.Namespace) -> None:
    try:
        exp = load_experiment(args.exp, args.checkpoint, "cpu")
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"glowtts-export: {e}")
    print(format_speakers(exp.speakers()))


def main(argv: list[str] | None = None) -> None:
    parser = get_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if args.list_speakers:
        return _list_speakers(args)
    if not args.out:
        parser.error("the following arguments are required: --out")
    as_dir = Path(args.out).suffix not in FILE_SUFFIXES
    if as_dir and args.format != "onnx":
        sys.exit(f"glowtts-export: a voice directory ({args.out}) needs --format onnx")
    if args.vocoder and args.format != "onnx":
        sys.exit("glowtts-export: --vocoder is for --format onnx")
    try:
        exp = load_experiment(args.exp, args.checkpoint, "cpu")
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"glowtts-export: {e}")
    vocoder = _load_vocoder(args)
    config, tokens_file = exp.config, exp.tokens_file
    meta = {
        "checkpoint": exp.checkpoint.name,
        "feats": config.get("feats"),
        "text": config.get("text"),
        "decode": config.get("decode"),
        "tokens": TokenList.load(tokens_file).tokens if tokens_file.is_file() else None,
        "speakers": exp.speakers(),
        "vocoder": args.vocoder,
    }
    if args.format == "onnx":
        try:
            import onnx  # noqa: F401  (torch.onnx.export needs it)
        except ImportError:
            sys.exit("glowtts-export: --format onnx needs the 'onnx' package (pip install onnx)")
    if as_dir:
        try:
            out = export_voice_dir(exp, args.out, metadata=meta, opset=args.opset, vocoder=vocoder)
        except FileNotFoundError as e:
            sys.exit(f"glowtts-export: {e}")
        logging.info("wrote the voice directory %s (from %s)", out, exp.checkpoint)
        return
    out = export_model(
        exp.model, args.out, args.format, metadata=meta, opset=args.opset, vocoder=vocoder
    )
    logging.info("wrote %s and %s.json (from %s)", out, out, exp.checkpoint)


if __name__ == "__main__":
    main()
