"""Command-line options shared by glowtts-synthesize, glowtts-serve and glowtts-vocode.

Kept apart from the commands so that glowtts-vocode does not import the synthesizer.
"""

from __future__ import annotations

import argparse
from typing import Any

from ..registry import AUTO_VOCODER, vocoder_choices


def add_vocoder_options(p: argparse.ArgumentParser) -> None:
    """``--vocoder`` (default auto), ``--vocoder_checkpoint`` and ``--vocoder_config``."""
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


def add_runtime_options(p: argparse.ArgumentParser) -> None:
    """``--num_threads``, ``--cuda_graphs`` and ``--precision``: how the model runs, not
    what it says."""
    p.add_argument(
        "--precision",
        default=None,
        choices=("auto", "fp32", "bf16"),
        help="precision of the model and the HiFi-GAN vocoder: auto (bf16 on CPUs with "
        "native bf16, else fp32), fp32 or bf16 (default: the model as the voice's decode.precision, "
        "fp32 unless set; the vocoder auto)",
    )
    p.add_argument(
        "--num_threads", type=int, default=None, help="torch CPU threads (default: torch's)"
    )
    p.add_argument(
        "--cuda_graphs", action="store_true", help="replay the model from CUDA graphs (CUDA only)"
    )


def hifigan_options(args: argparse.Namespace) -> dict[str, Any]:
    """The HiFi-GAN constructor options from ``add_vocoder_options``' flags, or none when
    ``--vocoder`` can not be HiFi-GAN (``auto`` may pick it, so it gets them too)."""
    if args.vocoder not in ("hifigan", AUTO_VOCODER):
        return {}
    opts = {"checkpoint": args.vocoder_checkpoint, "config": args.vocoder_config}
    if getattr(args, "precision", None):
        opts["precision"] = args.precision
    return opts


def voice_parser(prog: str, description: str | None, required: bool) -> argparse.ArgumentParser:
    """A parser with ``--model`` (alias ``--exp``): a voice file or an experiment dir."""
    p = argparse.ArgumentParser(
        prog=prog,
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--model", "--exp", dest="exp", required=required, default=None,
        help="voice file (NAME.glowtts, glowtts-pack) or experiment dir (exp/<tag>)",
    )  # fmt: skip
    return p
