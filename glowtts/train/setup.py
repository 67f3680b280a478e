"""Everything ``glowtts-train`` does before the loop: config, data, model, experiment files."""

from __future__ import annotations

import functools
import json
import logging
import platform
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import yaml

from glowtts import __version__
from glowtts.data.dataset import (
    TTSDataset,
    find_utt2spk,
    make_spk_list,
    read_spk_list,
    read_token_list,
)
from glowtts.nets.glow_tts import MODEL_DEFAULTS
from glowtts.text import Frontend
from glowtts.text.token_list import SPACE
from glowtts.train import init_from as init_from_lib
from glowtts.train.config import resolve_train_config
from glowtts.train.distributed import cleanup_distributed, setup_distributed
from glowtts.train.init_from import write_init_record
from glowtts.train.logs import LossLog, training_logging
from glowtts.train.resume import Opened, check_resumable, open_run
from glowtts.train.trainer import Trainer
from glowtts.utils import read_yaml_mapping

logger = logging.getLogger("glowtts.train")

SECTIONS = ("feats", "text", "model", "train", "decode", "duration")
# keys this command adds to the resolved exp_dir/config.yaml
RESOLVED_KEYS = ("n_vocab", "n_speakers", "paths")


def load_train_config(path: str | Path) -> dict[str, Any]:
    """Read the YAML training config ``path`` (``conf/*.yaml``); reject unknown sections."""
    try:
        conf = read_yaml_mapping(path)
    except ValueError:
        raise ValueError(
            f"{path}: the config must be a mapping of sections {list(SECTIONS)}"
        ) from None
    unknown = sorted(set(conf) - set(SECTIONS) - set(RESOLVED_KEYS))
    if unknown:
        raise ValueError(f"{path}: unknown top-level key(s) {unknown}; valid: {list(SECTIONS)}")
    for k in SECTIONS:
        if conf.get(k) is not None and not isinstance(conf[k], dict):
            raise ValueError(f"{path}: section {k!r} must be a mapping")
    return conf


def frontend_tokens(frontend: Frontend) -> list[str]:
    """The front-end's token list as ``tokens.txt`` spells it (space as ``<space>``)."""
    return [SPACE if t == " " else t for t in frontend.token_list.tokens]


def git_revision() -> str | None:
    """``git rev-parse HEAD`` of the source tree, or None outside a git checkout."""
    try:
        r = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return r.stdout.strip() if r.returncode == 0 and r.stdout.strip() else None


def write_experiment_files(
    exp_dir: Path,
    conf: dict,
    token_list: Path,
    stats: Path | None,
    spk_list: list[str] | None,
    argv: list[str],
) -> None:
    """``config.yaml``, ``version.json``, ``tokens.txt`` (+ ``frontend.yaml``, ``stats.npy``,
    ``spk_list.txt``) into ``exp_dir`` so decoding never meets another front-end."""
    fe = token_list.parent / "frontend.yaml"
    frontend = Frontend.from_file(str(fe)) if fe.is_file() else None
    if frontend is not None:
        # the stage-2 front-end must be the one the config describes (checked before
        # anything is written, so a refused run leaves the experiment dir as it was)
        diffs = frontend.differences(conf.get("text"))
        if diffs:
            raise ValueError(
                f"the config's text section disagrees with {fe} written by stage 2 "
                f"({'; '.join(diffs)}): re-run stage 2 with this config or fix the config"
            )
        if frontend_tokens(frontend) != read_token_list(token_list):
            raise ValueError(
                f"{fe} describes another token list than {token_list} "
                f"({len(frontend.token_list)} != {len(read_token_list(token_list))} tokens "
                "or another order): give the tokens.txt that stage 2 wrote beside it"
            )
    exp_dir.mkdir(parents=True, exist_ok=True)
    tmp = exp_dir / "config.yaml.tmp"
    tmp.write_text(yaml.safe_dump(conf, sort_keys=False), encoding="utf-8")
    tmp.replace(exp_dir / "config.yaml")
    version = {
        "glowtts": __version__,
        "git_revision": git_revision(),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "command": argv,
    }
    (exp_dir / "version.json").write_text(json.dumps(version, indent=2) + "\n", encoding="utf-8")
    shutil.copyfile(token_list, exp_dir / "tokens.txt")
    if frontend is not None:
        frontend.save(str(exp_dir))  # self-contained (tokens.txt, bpe.model) beside the model
    else:
        logger.warning("%s not found: the experiment dir has no front-end description", fe)
    if stats is not None:
        shutil.copyfile(stats, exp_dir / "stats.npy")
    if spk_list is not None:
        (exp_dir / "spk_list.txt").write_text("\n".join(spk_list) + "\n", encoding="utf-8")


def _utt2spk(dump_dir: Path, explicit: str | None) -> Path:
    return find_utt2spk(dump_dir, explicit, option="--train_utt2spk / --dev_utt2spk")


def resolve_experiment_config(config: str | Path, **train_overrides: Any) -> dict[str, Any]:
    """The YAML at ``config`` with the command-line overrides of ``train`` keys applied
    (``seed=``, ``max_steps=``, ``precision=``, ...; None: keep the YAML's) and its ``train``
    section resolved (defaults filled, validated); ``model`` is always a dict."""
    conf = dict(load_train_config(config))
    train_conf = dict(conf.get("train") or {})
    train_conf.update({k: v for k, v in train_overrides.items() if v is not None})
    conf["train"] = resolve_train_config(train_conf)
    conf["model"] = dict(conf.get("model") or {})
    return conf


def resolve_speakers(
    n_speakers: int,
    train_dir: Path,
    dev_dir: str | Path | None,
    spk_list: str | Path | None,
    train_utt2spk: str | None,
    dev_utt2spk: str | None,
) -> tuple[list[str] | None, Path | None, Path | None]:
    """``(speaker names, train utt2spk, dev utt2spk)``; all None for a single speaker."""
    if n_speakers <= 1:
        return None, None, None
    utt2spk_tr = _utt2spk(train_dir, train_utt2spk)
    names = read_spk_list(spk_list) if spk_list else make_spk_list(utt2spk_tr)
    if len(names) > n_speakers:
        raise ValueError(f"{len(names)} speakers in the data but model.n_speakers={n_speakers}")
    utt2spk_dev = _utt2spk(Path(dev_dir), dev_utt2spk) if dev_dir is not None else None
    return names, utt2spk_tr, utt2spk_dev


def resolved_config(
    conf: dict, n_vocab: int, spk_names: list[str] | None, paths: dict[str, str | None]
) -> dict[str, Any]:
    """What ``exp_dir/config.yaml`` holds: the resolved sections plus :data:`RESOLVED_KEYS`."""
    return {
        **conf,
        "n_vocab": n_vocab,
        "n_speakers": len(spk_names) if spk_names else 0,
        "paths": paths,
    }


def build_datasets(
    train_dir: Path,
    dev_dir: str | Path | None,
    text_kw: dict[str, Any],
    model: torch.nn.Module,
    spk_names: list[str] | None,
    utt2spk: tuple[Path | None, Path | None],
) -> tuple[TTSDataset, TTSDataset | None]:
    """The train and dev sets; ``text_kw``: ``n_vocab``, ``add_blank``. Frames are cut
    to a multiple of the model's squeeze."""
    kw = {**text_kw, "spk_list": spk_names, "squeeze": int(getattr(model, "squeeze", 1))}
    train_set = TTSDataset(train_dir, utt2spk=utt2spk[0], **kw)
    dev_set = TTSDataset(dev_dir, utt2spk=utt2spk[1], **kw) if dev_dir else None
    return train_set, dev_set


def experiment_paths(
    train_dir: Path, dev_dir: str | Path | None, token_list: Path, stats: str | Path | None
) -> dict[str, str | None]:
    """The ``paths`` entry of ``exp_dir/config.yaml``."""
    return {
        "train_dir": str(train_dir),
        "dev_dir": str(dev_dir) if dev_dir else None,
        "token_list": str(token_list),
        "stats": str(stats) if stats else None,
    }


def open_checked_run(
    exp_dir: Path,
    resume: bool,
    is_main: bool,
    meta: dict[str, Any],
    token_list: Path,
    spk_names: list[str] | None,
) -> tuple[Path, dict[str, Any]] | None:
    """:func:`~glowtts.train.resume.open_run` for ``exp_dir``, refusing a checkpoint
    that was trained with another config, token list or speaker list."""
    check = functools.partial(
        check_resumable,
        meta=meta,
        exp_dir=exp_dir,
        tokens=read_token_list(token_list),
        speakers=spk_names,
    )
    loss_log = LossLog(exp_dir / "loss.jsonl", enabled=is_main)
    return open_run(exp_dir / "checkpoints", loss_log, resume=resume, is_main=is_main, check=check)


def load_init(
    model: torch.nn.Module,
    src: str | Path,
    exclude: str | None,
    token_list: Path,
    spk_names: list[str] | None,
) -> dict[str, Any]:
    """Fine-tuning: ``src``'s weights into ``model``; returns the ``init.json`` record."""
    if exclude is not None:
        try:
            re.compile(exclude)
        except re.error as e:
            raise ValueError(f"--init_exclude {exclude!r}: not a regular expression ({e})") from e
    return init_from_lib.init_from(
        model, src, tokens=read_token_list(token_list), speakers=spk_names, exclude=exclude
    )


def run_training(
    *,
    config: str | Path,
    train_dir: str | Path,
    dev_dir: str | Path | None,
    token_list: str | Path,
    exp_dir: str | Path,
    resume: bool = True,
    device: str = "auto",
    seed: int | None = None,
    max_steps: int | None = None,
    precision: str | None = None,
    eval_interval_steps: int | None = None,
    eval_every_epoch: bool | None = None,
    stats: str | Path | None = None,
    spk_list: str | Path | None = None,
    train_utt2spk: str | None = None,
    dev_utt2spk: str | None = None,
    argv: list[str] | None = None,
    build_model_fn: Callable[[dict, int], torch.nn.Module] | None = None,
    init_from: str | Path | None = None,
    init_exclude: str | None = None,
) -> dict:
    """Train from files; returns :meth:`Trainer.fit`'s summary. Works under torchrun.

    ``init_from``: an experiment dir or checkpoint whose weights start a new run
    (fine-tuning; see :mod:`glowtts.train.init_from`); ignored when resuming."""
    if build_model_fn is None:
        from glowtts.nets import build_model as build_model_fn
    conf = resolve_experiment_config(
        config,
        seed=seed,
        max_steps=max_steps,
        precision=precision,
        eval_interval_steps=eval_interval_steps,
        eval_every_epoch=eval_every_epoch,
    )
    train_conf, model_conf = conf["train"], conf["model"]
    text_conf = conf.get("text") or {}
    token_list, train_dir, exp_dir = Path(token_list), Path(train_dir), Path(exp_dir)
    n_vocab = len(read_token_list(token_list))
    info = setup_distributed(device, train_conf["ddp_backend"])
    ok = False
    try:
        torch.manual_seed(train_conf["seed"])  # same initial weights on every rank
        model = build_model_fn(model_conf, n_vocab)
        n_speakers = int(model_conf.get("n_speakers", 0) or 0)
        spk_names, utt2spk_tr, utt2spk_dev = resolve_speakers(
            n_speakers, train_dir, dev_dir, spk_list, train_utt2spk, dev_utt2spk
        )
        text_kw = {"n_vocab": n_vocab, "add_blank": bool(text_conf.get("add_blank", False))}
        utt2spk = (utt2spk_tr, utt2spk_dev)
        train_set, dev_set = build_datasets(train_dir, dev_dir, text_kw, model, spk_names, utt2spk)
        meta = {
            "model_conf": model_conf,
            "n_vocab": n_vocab,
            "text": dict(text_conf),
            "feats": conf.get("feats"),
        }
        # the checkpoint is checked against this config before any file is written
        with training_logging(exp_dir / "train.log" if info.is_main else None):
            found = open_checked_run(exp_dir, resume, info.is_main, meta, token_list, spk_names)
            init_record = None
            if init_from is not None and found is None:
                init_record = load_init(model, init_from, init_exclude, token_list, spk_names)
            elif init_from is not None:
                logger.info("resuming %s: --init_from %s is not used", exp_dir, init_from)
        if info.is_main:
            paths = experiment_paths(train_dir, dev_dir, token_list, stats)
            write_experiment_files(
                exp_dir,
                resolved_config(conf, n_vocab, spk_names, paths),
                token_list,
                Path(stats) if stats else None,
                spk_names,
                argv if argv is not None else sys.argv,
            )
            if init_record is not None:
                write_init_record(exp_dir, init_record)
        d_model = int(model_conf.get("hidden_channels", MODEL_DEFAULTS["hidden_channels"]))
        trainer = Trainer(
            model, train_set, dev_set, train_conf, exp_dir,
            dist_info=info, resume=Opened(found), d_model=d_model, meta=meta,
        )  # fmt: skip
        summary = trainer.fit()
        ok = True
        return summary
    finally:
        cleanup_distributed(info, barrier=ok)
