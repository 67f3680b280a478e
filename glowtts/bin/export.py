"""glowtts-export: a trained experiment's text-to-mel model as TorchScript or ONNX.

::

    glowtts-export --exp exp/<tag> --format torchscript --out model.pt
    glowtts-export --exp exp/<tag> --format onnx --out model.onnx

The graph takes ``tokens`` (B, T_text) int64, ``token_lengths`` (B,) int64,
``noise_scale`` and ``length_scale`` (0-dim float32)[, ``spk`` (B,) int64] and
returns ``mel`` (B, T_mel, n_mels), ``mel_lengths`` (B,), ``durations`` (B, T_text);
every length is dynamic and durations are predicted inside. ``<out>.json`` beside it
records the input/output names, the mel definition (``feats``), the text front-end
(``text``, with ``add_blank``: the caller intersperses blanks) and the token list.
See :mod:`glowtts.synthesis.export`.
"""

from __future__ import annotations

import argparse
import logging
import sys

from ..synthesis.export import FORMATS, ONNX_OPSET, export_model
from ..synthesis.loading import load_experiment
from ..text import TokenList


def get_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="glowtts-export",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model", "--exp", dest="exp", required=True,
        help="voice file (NAME.glowtts, glowtts-pack) or experiment dir (exp/<tag>)",
    )  # fmt: skip
    p.add_argument(
        "--checkpoint", default=None, help="default: best.pth, else the newest step_*.pth"
    )
    p.add_argument("--format", default="torchscript", choices=FORMATS, help="output format")
    p.add_argument("--out", required=True, help="output file (model.pt / model.onnx)")
    p.add_argument("--opset", type=int, default=ONNX_OPSET, help="ONNX opset (>= 17)")
    return p


def main(argv: list[str] | None = None) -> None:
    args = get_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        exp = load_experiment(args.exp, args.checkpoint, "cpu")
    except (FileNotFoundError, ValueError) as e:
        sys.exit(f"glowtts-export: {e}")
    config, tokens_file = exp.config, exp.tokens_file
    meta = {
        "checkpoint": exp.checkpoint.name,
        "feats": config.get("feats"),
        "text": config.get("text"),
        "decode": config.get("decode"),
        "tokens": TokenList.load(tokens_file).tokens if tokens_file.is_file() else None,
    }
    if args.format == "onnx":
        try:
            import onnx  # noqa: F401  (torch.onnx.export needs it)
        except ImportError:
            sys.exit("glowtts-export: --format onnx needs the 'onnx' package (pip install onnx)")
    out = export_model(exp.model, args.out, args.format, metadata=meta, opset=args.opset)
    logging.info("wrote %s and %s.json (from %s)", out, out, exp.checkpoint)


if __name__ == "__main__":
    main()
