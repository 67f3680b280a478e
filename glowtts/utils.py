"""Small helpers shared by the command-line mains, and by train and synthesis (which must
not import train)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported lazily: most mains here run without a model
    import torch

__all__ = [
    "add_checkpoint_option",
    "add_device_option",
    "add_exp_option",
    "add_num_threads_option",
    "command_parser",
    "format_speakers",
    "model_command_parser",
    "pick",
    "set_num_threads",
    "read_yaml_mapping",
    "resolve_device",
    "str2bool",
]


def command_parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of a ``glowtts-*`` main: its name, and its module docstring as the help,
    line breaks kept."""
    return argparse.ArgumentParser(
        prog=prog, description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )


class _ExpAction(argparse.Action):
    """Stores the experiment dir; the old ``--exp_dir`` spelling still works, with a note on
    stderr so that scripts can move to ``--exp`` before it goes."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        if option_string in DEPRECATED_EXP_OPTIONS:
            print(
                f"{parser.prog}: {option_string} is deprecated, use --exp (same meaning)",
                file=sys.stderr,
            )
        setattr(namespace, self.dest, values)


DEPRECATED_EXP_OPTIONS = ("--exp_dir",)


def add_exp_option(
    p: argparse.ArgumentParser,
    help: str = "experiment dir written by glowtts-train",
    *,
    names: Sequence[str] = ("--exp",),
    dest: str = "exp",
    required: bool = True,
) -> None:
    """``--exp DIR`` (plus ``names``), the one spelling of every main; ``--exp_dir`` is
    accepted with a deprecation note."""
    p.add_argument(
        *names, *DEPRECATED_EXP_OPTIONS, dest=dest, required=required, metavar="EXP",
        action=_ExpAction, help=f"{help} (--exp_dir: deprecated spelling)",
    )  # fmt: skip


def add_checkpoint_option(
    p: argparse.ArgumentParser, help: str = "default: best.pth, else the newest step_*.pth"
) -> None:
    """``--checkpoint`` (None: the experiment's best, else its newest)."""
    p.add_argument("--checkpoint", default=None, help=help)


def add_device_option(p: argparse.ArgumentParser, default: str = "auto") -> None:
    """``--device`` as :func:`resolve_device` reads it (``auto``: CUDA when available)."""
    p.add_argument("--device", default=default, help="cpu | cuda | cuda:N | auto")


def add_skip_bad_option(p: argparse.ArgumentParser, listed_in: str = "") -> None:
    """Stage 2's ``--skip_bad [true|false]``: drop (and list) the utterances the text screen
    rejects instead of failing; ``listed_in`` names where they are listed."""
    where = f", listing them in {listed_in}" if listed_in else ""
    p.add_argument(
        "--skip_bad", type=str2bool, nargs="?", const=True, default=False,
        help="true: drop utterances with no letter or digit after cleaning, or with "
        f"characters foreign to the cleaners' script{where}; false (default): such "
        "utterances are an error",
    )  # fmt: skip


def add_num_threads_option(p: argparse.ArgumentParser, default: int = 1) -> None:
    """``--num_threads``: torch CPU threads of this process (0: torch's default)."""
    p.add_argument(
        "--num_threads", type=int, default=default, help="torch CPU threads (0: torch's default)"
    )


def format_speakers(speakers: Sequence[str] | None) -> str:
    """What ``--list_speakers`` prints: one name a line (the id is the line number minus one),
    or ``(single speaker)``."""
    return "\n".join(speakers) if speakers else "(single speaker)"


def model_command_parser(
    prog: str,
    doc: str | None,
    *,
    checkpoint_help: str = "default: best.pth, else the newest step_*.pth",
    num_threads: int = 1,
) -> argparse.ArgumentParser:
    """:func:`command_parser` of a main that loads a trained experiment: ``--exp``,
    ``--checkpoint``, ``--device`` (default ``auto``) and ``--num_threads``."""
    p = command_parser(prog, doc)
    add_exp_option(p)
    add_checkpoint_option(p, checkpoint_help)
    add_device_option(p)
    add_num_threads_option(p, num_threads)
    return p


def set_num_threads(n: int) -> None:
    """Apply ``--num_threads`` (0 keeps torch's default)."""
    import torch

    if n > 0:
        torch.set_num_threads(n)


def pick(args: argparse.Namespace, *names: str) -> dict[str, Any]:
    """The named options of ``args`` as keyword arguments (a main passing its options on
    under the same names)."""
    return {name: getattr(args, name) for name in names}


def str2bool(value: str | bool) -> bool:
    """argparse type for Kaldi-style ``true``/``false`` options."""
    if isinstance(value, bool):
        return value
    v = value.lower()
    if v in ("true", "1", "yes"):
        return True
    if v in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """A YAML file whose top level is a mapping (an empty file reads as ``{}``)."""
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def resolve_device(device: str, local_rank: int = 0) -> torch.device:
    """``cpu`` | ``cuda`` | ``cuda:N`` | ``auto`` (CUDA when available) -> a torch device.

    Plain ``cuda`` means this process's GPU (``local_rank`` modulo the GPU count, as torchrun
    places ranks); a CUDA device also becomes the current one.
    """
    import torch

    if device not in ("cpu", "cuda", "auto") and not device.startswith("cuda:"):
        raise ValueError(f"--device must be cpu, cuda, cuda:N or auto, got {device!r}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise RuntimeError(
                f"--device {device}: torch sees no CUDA device (CPU build of torch?)"
            )
        if device == "cuda":
            device = f"cuda:{local_rank % torch.cuda.device_count()}"
        torch.cuda.set_device(torch.device(device))
    return torch.device(device)


# ----------------------------------------------------------------------- precision
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
# inference (acoustic model, HiFi-GAN): the precisions synthesis accepts (fp16 is training only)
INFERENCE_PRECISIONS = ("auto", "fp32", "bf16")
_BF16_FLAGS = ("amx_bf16", "avx512_bf16")  # x86 flags in /proc/cpuinfo


def cpu_model_and_flags() -> tuple[str, set[str]]:
    """The CPU's model name and feature flags from ``/proc/cpuinfo`` (first CPU);
    ``("unknown", set())`` where the file does not exist (not Linux)."""
    name, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and name == "unknown":
                    name = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    return name, flags


def cpu_bf16_flags() -> list[str]:
    """The native-bf16 flags of this CPU (``amx_bf16``, ``avx512_bf16``); empty where the
    CPU has none or ``/proc/cpuinfo`` does not exist."""
    flags = cpu_model_and_flags()[1]
    return [x for x in _BF16_FLAGS if x in flags]


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AMX-BF16 or AVX512-BF16). Elsewhere
    oneDNN emulates bf16, slower than fp32, so ``auto`` precision stays fp32."""
    return bool(cpu_bf16_flags())


def check_inference_precision(value: Any, what: str = "precision") -> str:
    """``value`` if it is one of :data:`INFERENCE_PRECISIONS`, else a ``ValueError`` that
    names ``what`` (``decode.precision``, the ``--precision`` option, a vocoder's)."""
    if value not in INFERENCE_PRECISIONS:
        raise ValueError(f"{what} must be one of {INFERENCE_PRECISIONS}, got {value!r}")
    return value


def resolve_precision(precision: str, device: torch.device | str) -> str:
    """``auto`` -> ``bf16`` on a CPU with native bf16, else ``fp32``; other values as they
    are (``fp32``, ``bf16``, ``fp16``). ``ValueError`` for anything else."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    dev_type = device if isinstance(device, str) else device.type
    return "bf16" if dev_type == "cpu" and cpu_has_native_bf16() else "fp32"


def describe_precision(precision: str, device: torch.device | str) -> str:
    """One log line's worth: the resolved precision and, for ``auto``, why."""
    chosen = resolve_precision(precision, device)
    if precision != "auto":
        return chosen
    dev_type = device if isinstance(device, str) else device.type
    if dev_type != "cpu":
        return f"{chosen} (auto: fp32 on {dev_type}; set bf16 or fp16 to use autocast)"
    flags = cpu_bf16_flags()
    if flags:
        return f"{chosen} (auto: this CPU has native bf16: {', '.join(flags)})"
    return f"{chosen} (auto: this CPU has no native bf16, which would be emulated and slower)"
