"""One-file voices: a trained experiment as one ``NAME.glowtts`` archive, and its reader.

A package is a zip archive (format version :data:`FORMAT_VERSION`) of flat members::

    glowtts-voice.json    manifest: format, format_version, step, checkpoint meta and the
                          sha256 + size of every other member
    config.yaml           the experiment's resolved config (without its data paths)
    frontend.yaml         the text front-end, self-contained (Frontend.save) with
    tokens.txt            its token list and, when the voice has them, bpe.model,
    [bpe.model, ...]      lexicon.txt or the CMU dictionary
    [spk_list.txt]        speaker names of a multi-speaker voice
    model.safetensors     the weights (the trainer's state dict)
    model_card.md/.json   what the voice is: corpus, steps, training time, the stage-7
                          figures, licence fields

Zip rather than tar: its central directory sits at the end, so a truncated download
fails at open instead of yielding a short archive, members are read by name without
scanning, every member carries a CRC, and there are no links or device entries to
defuse. Reading never unpickles (safetensors, JSON and YAML only), checks the format,
its version and every member's sha256 against the manifest, refuses members the
manifest does not list and any name that is not a plain file name (no path traversal),
and extracts only the small text files, into a private temporary directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
import yaml

from .. import __version__

logger = logging.getLogger(__name__)

FORMAT = "glowtts-voice"
FORMAT_VERSION = 1
SUFFIX = ".glowtts"
MANIFEST = "glowtts-voice.json"
WEIGHTS = "model.safetensors"
CARD_MD, CARD_JSON = "model_card.md", "model_card.json"
LICENSE_PLACEHOLDER = "FILL IN (the voice inherits the licence of its training corpus)"
AUTHOR_PLACEHOLDER = "FILL IN"
# member names: one plain file name, no directories, no "..", no hidden files
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# directories extracted by read_package live as long as the process (a front-end may
# read its files lazily)
_EXTRACTED: list[tempfile.TemporaryDirectory] = []


class PackageError(ValueError):
    """A voice package that cannot be used; the message names the file and the reason."""


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def is_package(path: str | Path) -> bool:
    """Whether ``path`` names a file (a package) rather than an experiment dir."""
    return Path(path).is_file()


# ---------------------------------------------------------------- reading


@dataclass
class Package:
    """A checked, extracted package.

    Attributes:
        path: the archive.
        dir: the extracted text files (config.yaml, frontend.yaml, tokens.txt, ...).
        manifest: the parsed ``glowtts-voice.json``.
        weights: the state dict from ``model.safetensors`` (name -> tensor).
    """

    path: Path
    dir: Path
    manifest: dict[str, Any]
    weights: dict[str, torch.Tensor]

    def state(self) -> dict[str, Any]:
        """The weights as a checkpoint dict (``model``, ``step``, ``meta``)."""
        return {
            "model": self.weights,
            "step": int(self.manifest.get("step") or 0),
            "meta": self.manifest.get("meta") or {},
        }


def _open_zip(path: Path) -> zipfile.ZipFile:
    """The archive, or a :class:`PackageError` that tells truncated from foreign."""
    try:
        return zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        with open(path, "rb") as f:
            head = f.read(4)
        if head == b"PK\x03\x04":  # a zip that lost its end (central directory)
            raise PackageError(
                f"{path}: truncated or damaged voice package ({e}): download or copy it again"
            ) from None
        raise PackageError(
            f"{path}: not a glowtts voice package (not a zip archive); pass a NAME{SUFFIX} "
            "file written by glowtts-pack, or an experiment dir"
        ) from None


def _read_manifest(path: Path, zf: zipfile.ZipFile) -> dict[str, Any]:
    """The manifest, checked for the format and its version."""
    if MANIFEST not in zf.namelist():
        raise PackageError(
            f"{path}: a zip archive but not a glowtts voice package (no {MANIFEST}); "
            "glowtts-pack writes them (a .pth checkpoint goes to --checkpoint, with the "
            "experiment dir it belongs to)"
        )
    try:
        manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except (zipfile.BadZipFile, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PackageError(f"{path}: damaged {MANIFEST} ({e}): download it again") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise PackageError(f"{path}: {MANIFEST} is not a {FORMAT} manifest")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise PackageError(f"{path}: bad format_version {version!r} in {MANIFEST}")
    if version > FORMAT_VERSION:
        raise PackageError(
            f"{path}: package format {version} is newer than this glowtts reads "
            f"({FORMAT_VERSION}): upgrade glowtts (the package says {manifest.get('glowtts')})"
        )
    files = manifest.get("files")
    if not isinstance(files, dict) or WEIGHTS not in files or "config.yaml" not in files:
        raise PackageError(f"{path}: {MANIFEST} lists no {WEIGHTS} / config.yaml")
    return manifest


def _checked_members(path: Path, zf: zipfile.ZipFile, files: dict[str, Any]) -> dict[str, bytes]:
    """Every member's bytes, each checked against its manifest sha256 and size."""
    names = [n for n in zf.namelist() if n != MANIFEST]
    for name in [*names, *files]:
        if not _SAFE_NAME.match(name) or name == MANIFEST:
            raise PackageError(f"{path}: refusing member {name!r} (not a plain file name)")
    extra = sorted(set(names) - set(files))
    missing = sorted(set(files) - set(names))
    if extra or missing:
        raise PackageError(
            f"{path}: members do not match {MANIFEST} (unlisted {extra}, missing {missing}): "
            "the package was modified or damaged"
        )
    out = {}
    for name, want in files.items():
        if zf.getinfo(name).file_size != want.get("size"):  # before inflating anything
            raise PackageError(
                f"{path}: {name} is not the size {MANIFEST} gives: the package was modified"
            )
        try:
            data = zf.read(name)
        except (zipfile.BadZipFile, OSError, EOFError) as e:  # CRC error, short member
            raise PackageError(f"{path}: {name} is damaged ({e}): download it again") from None
        if _sha256(data) != want.get("sha256") or len(data) != want.get("size"):
            raise PackageError(
                f"{path}: {name} does not match the sha256 in {MANIFEST}: the file was "
                "modified or damaged; download it again or re-pack the experiment"
            )
        out[name] = data
    return out


def read_package(path: str | Path) -> Package:
    """Open, check and extract a voice package (see the module doc).

    Raises:
        PackageError: truncated, foreign, newer-format, tampered or unsafe package.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load as load_safetensors

    path = Path(path)
    with _open_zip(path) as zf:
        manifest = _read_manifest(path, zf)
        members = _checked_members(path, zf, manifest["files"])
    try:
        weights = load_safetensors(members.pop(WEIGHTS))
    except (SafetensorError, ValueError) as e:
        raise PackageError(f"{path}: {WEIGHTS} is not a safetensors file ({e})") from None
    tmp = tempfile.TemporaryDirectory(prefix="glowtts-voice-")
    _EXTRACTED.append(tmp)
    out = Path(tmp.name)
    for name, data in members.items():  # names are checked plain file names
        (out / name).write_bytes(data)
    return Package(path, out, manifest, weights)


# ---------------------------------------------------------------- writing


def _training_time(exp_dir: Path) -> float | None:
    """Seconds from the first to the last timestamped line of ``train.log`` (pauses
    between resumed runs included), or None without one."""
    log = exp_dir / "train.log"
    if not log.is_file():
        return None
    stamps = []
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            stamps.append(datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f"))
        except ValueError:
            continue
    return (stamps[-1] - stamps[0]).total_seconds() if len(stamps) > 1 else None


def _figures(report: Any) -> Any:
    """``report.json`` without its per-utterance detail (hypotheses, per-utt scores)."""
    if isinstance(report, dict):
        drop = ("per_utt", "hyps", "exp_dir", "options")
        return {k: _figures(v) for k, v in report.items() if k not in drop}
    if isinstance(report, list):
        return [_figures(v) for v in report]
    return report


def _corpus(exp_dir: Path) -> str:
    """The recipe name of ``egs/<corpus>/tts1/exp/<tag>``, or where the weights came from."""
    version = exp_dir / "version.json"
    if version.is_file():
        source = json.loads(version.read_text(encoding="utf-8")).get("imported_from")
        if source:
            return f"unknown: imported official Glow-TTS checkpoint (sha256 {source.get('sha256')})"
    parts = exp_dir.resolve().parts
    if len(parts) >= 4 and parts[-2] == "exp":
        return parts[-4] if parts[-3] == "tts1" else parts[-3]
    return "unknown (glowtts-pack --corpus names it)"


def model_card(
    exp: Any, name: str, *, license: str, author: str, corpus: str | None
) -> dict[str, Any]:
    """The ``model_card.json`` of a loaded :class:`~glowtts.synthesis.loading.Experiment`."""
    config, exp_dir = exp.config, exp.exp_dir
    report = exp_dir / "report.json"
    text = config.get("text") or {}
    return {
        "name": name,
        "corpus": corpus or _corpus(exp_dir),
        "steps": exp.step,
        "training_time_seconds": _training_time(exp_dir),
        "license": license,
        "author": author,
        "sample_rate": (config.get("feats") or {}).get("fs"),
        "token_type": text.get("token_type", "char"),
        "add_blank": exp.add_blank,
        "speakers": exp.speakers(),
        "parameters": sum(p.numel() for p in exp.model.parameters()),
        "evaluation": _figures(json.loads(report.read_text(encoding="utf-8")))
        if report.is_file()
        else None,
        "glowtts": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def _card_markdown(card: dict[str, Any]) -> str:
    t = card["training_time_seconds"]
    lines = [
        f"# {card['name']}: a glowtts (Glow-TTS) voice",
        "",
        f"- corpus: {card['corpus']}",
        f"- training steps: {card['steps']}",
        f"- training time: {f'{t / 3600:.2f} h (from train.log)' if t is not None else 'unknown'}",
        f"- sample rate: {card['sample_rate']} Hz; tokens: {card['token_type']}"
        f"{' with blanks' if card['add_blank'] else ''}; parameters: {card['parameters']:,}",
        f"- speakers: {', '.join(card['speakers']) if card['speakers'] else 'one'}",
        f"- licence: {card['license']}",
        f"- author: {card['author']}",
        "",
        "## Evaluation (stage 7, report.json)",
        "",
    ]
    ev = card["evaluation"]
    lines.append(
        "```json\n" + json.dumps(ev.get("sets", ev), indent=1) + "\n```"
        if ev
        else "No report.json: run the recipe's stage 7 before packing to include it."
    )
    lines += ["", f"Packed by glowtts {card['glowtts']} on {card['created']}.", ""]
    return "\n".join(lines)


def _stage(exp: Any, out: Path, card: dict[str, Any]) -> None:
    """Write every member except the weights and the manifest into ``out``."""
    # training data paths mean nothing on another machine (and may name private dirs)
    config = {k: v for k, v in exp.config.items() if k != "paths"}
    (out / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    exp.frontend().save(str(out))  # self-contained: tokens.txt, bpe.model, lexicon, dictionary
    if (exp.exp_dir / "spk_list.txt").is_file():
        shutil.copyfile(exp.exp_dir / "spk_list.txt", out / "spk_list.txt")
    (out / CARD_JSON).write_text(json.dumps(card, indent=1) + "\n", encoding="utf-8")
    (out / CARD_MD).write_text(_card_markdown(card), encoding="utf-8")


def pack_experiment(
    exp_dir: str | Path,
    out: str | Path,
    *,
    checkpoint: str | Path | None = None,
    license: str = LICENSE_PLACEHOLDER,
    author: str = AUTHOR_PLACEHOLDER,
    corpus: str | None = None,
) -> Path:
    """Write the voice package ``out`` of an experiment dir (see the module doc).

    The checkpoint (default: as :func:`~glowtts.synthesis.loading.load_experiment`
    chooses) is loaded first, so a package always holds a model that loads.
    """
    from safetensors.torch import save as save_safetensors

    from .loading import load_experiment

    out = Path(out)
    exp = load_experiment(exp_dir, checkpoint, "cpu")
    sd = exp.state["model"] if "model" in exp.state else exp.state
    # clone: safetensors refuses tensors sharing storage
    weights = save_safetensors({k: v.detach().contiguous().clone() for k, v in sd.items()})
    card = model_card(exp, out.name.removesuffix(SUFFIX), license=license, author=author,
                      corpus=corpus)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        _stage(exp, stage, card)
        members = {p.name: p.read_bytes() for p in sorted(stage.iterdir()) if p.is_file()}
    members[WEIGHTS] = weights
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "glowtts": __version__,
        "step": exp.step,
        "meta": exp.state.get("meta") or {},
        "source_checkpoint": exp.checkpoint.name,
        "files": {n: {"sha256": _sha256(d), "size": len(d)} for n, d in members.items()},
    }
    _write_zip(out, manifest, members)
    return out


def _write_zip(out: Path, manifest: dict[str, Any], members: dict[str, bytes]) -> None:
    """The archive, written to a temp file and renamed: a reader never sees half of it."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1), zipfile.ZIP_DEFLATED)
            for name, data in members.items():
                # weights barely compress; text does
                mode = zipfile.ZIP_STORED if name == WEIGHTS else zipfile.ZIP_DEFLATED
                zf.writestr(name, data, mode)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
