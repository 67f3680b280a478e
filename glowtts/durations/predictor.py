"""The separate duration stage: train the duration predictor alone on MAS durations.

:func:`train_duration_predictor` trains (or fine-tunes) the duration predictor
``model.encoder.proj_w`` alone on durations from :mod:`glowtts.durations.extract`,
with the rest of the model frozen, and swaps the result into a checkpoint that
``glowtts-decode`` loads.

The ``duration:`` YAML section
------------------------------

Read by ``glowtts-train-duration`` (from ``--config``, else the experiment's
``config.yaml``); every key is optional:

.. code-block:: yaml

    duration:
      max_steps: 2000          # optimizer steps on the duration predictor
      batch_size: 32           # utterances per batch
      learning_rate: 1.0e-3    # Adam learning rate (constant)
      betas: [0.9, 0.98]       # Adam betas
      eps: 1.0e-9              # Adam epsilon
      weight_decay: 0.0        # Adam (L2) weight decay
      grad_clip_value: 5.0     # clip every gradient element to [-v, v]; 0 = off
      log_interval_steps: 50   # a train-loss line in duration/train.log every N steps
      eval_interval_steps: 200 # dev loss every N steps (and at the end); best one is kept
      init: model              # model: fine-tune the trained predictor | scratch: re-initialise it
      seed: 1234               # torch seed (scratch init, dropout) and batch shuffle
"""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from glowtts.data.collate import pad_tokens
from glowtts.data.kaldi import atomic_write_text, iter_fields
from glowtts.durations.extract import _speakers, read_durations
from glowtts.nets import GlowTTS
from glowtts.nets.commons import sequence_mask
from glowtts.synthesis.loading import Experiment, load_experiment
from glowtts.text.blanks import intersperse
from glowtts.train.checkpoint import atomic_save
from glowtts.train.logs import LossLog, training_logging
from glowtts.train.schedule import build_optimizer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DurationConfig:
    """The ``duration:`` section: one field per key, with its default and meaning."""

    max_steps: int = 2000  # optimizer steps on the duration predictor
    batch_size: int = 32  # utterances per batch
    learning_rate: float = 1.0e-3  # Adam learning rate (constant)
    betas: list[float] = field(default_factory=lambda: [0.9, 0.98])  # Adam betas
    eps: float = 1.0e-9  # Adam epsilon
    weight_decay: float = 0.0  # Adam (L2) weight decay
    grad_clip_value: float = 5.0  # clip every gradient element to [-v, v]; 0 = off
    log_interval_steps: int = 50  # a train-loss line in duration/train.log every N steps
    eval_interval_steps: int = 200  # dev loss every N steps (and at the end); best one is kept
    init: str = "model"  # model: fine-tune the trained predictor | scratch: re-initialise it
    seed: int = 1234  # torch seed (scratch init, dropout) and batch shuffle


DURATION_DEFAULTS: dict[str, Any] = asdict(DurationConfig())
INIT_MODES = ("model", "scratch")
DP_PREFIX = "encoder.proj_w."


def resolve_duration_config(conf: dict[str, Any] | None) -> dict[str, Any]:
    """Fill the ``duration`` section's defaults; unknown keys or bad values raise ``ValueError``."""
    conf = dict(conf or {})
    unknown = sorted(set(conf) - set(DURATION_DEFAULTS))
    if unknown:
        raise ValueError(
            f"duration: unknown key(s) {unknown}; valid keys: {sorted(DURATION_DEFAULTS)}"
        )
    out = {**copy.deepcopy(DURATION_DEFAULTS), **conf}
    for k in ("max_steps", "batch_size", "log_interval_steps", "eval_interval_steps", "seed"):
        out[k] = int(out[k])
        if out[k] < 0 or (k == "batch_size" and out[k] < 1):
            raise ValueError(f"duration.{k} must be {'>= 1' if k == 'batch_size' else '>= 0'}")
    for k in ("learning_rate", "eps", "weight_decay", "grad_clip_value"):
        out[k] = float(out[k])
    if out["learning_rate"] <= 0:
        raise ValueError("duration.learning_rate must be positive")
    betas = out["betas"]
    if not isinstance(betas, (list, tuple)) or len(betas) != 2:
        raise ValueError(f"duration.betas must be a pair [b1, b2], got {betas!r}")
    out["betas"] = [float(b) for b in betas]
    if out["init"] not in INIT_MODES:
        raise ValueError(f"duration.init must be one of {INIT_MODES}, got {out['init']!r}")
    return out


# ------------------------------------------------------- duration predictor stage
@dataclass
class DurationItem:
    """One utterance for duration training: model input ids (with blanks) and targets."""

    utt: str
    tokens: list[int]
    durations: list[int]
    spk: int | None = None


def load_duration_items(
    data_dir: str | Path,
    durations_path: str | Path,
    *,
    add_blank: bool,
    n_vocab: int,
    utt2spk: str | Path | None = None,
    spk_list: Sequence[str] | None = None,
) -> list[DurationItem]:
    """Pair ``<data_dir>/token`` with a durations file (utterances in both, sorted).

    Raises ``ValueError`` when an utterance's duration count is not its model token
    count (e.g. durations extracted with another ``add_blank`` setting).
    """
    tok_file = Path(data_dir) / "token"
    if not tok_file.is_file():
        raise FileNotFoundError(f"{tok_file} not found: run stage 2 for this set first")
    if not Path(durations_path).is_file():
        raise FileNotFoundError(
            f"{durations_path} not found: extract durations first (glowtts-extract-durations)"
        )
    durs = read_durations(durations_path)
    spk_of: dict[str, int] = {}
    if utt2spk is not None:
        if spk_list is None:
            raise ValueError("utt2spk given without a speaker list")
        spk2id = {s: i for i, s in enumerate(spk_list)}
        for u, f in iter_fields(utt2spk):
            if f and f[0] in spk2id:
                spk_of[u] = spk2id[f[0]]
    items: list[DurationItem] = []
    missing = 0
    for utt, fields in iter_fields(tok_file):
        if utt not in durs or (utt2spk is not None and utt not in spk_of):
            missing += 1
            continue
        ids = [int(x) for x in fields]
        if not ids:
            continue
        if any(i < 0 or i >= n_vocab for i in ids):
            raise ValueError(f"{tok_file}: utterance {utt} has a token id outside [0, {n_vocab})")
        if add_blank:
            ids = intersperse(ids)
        d = durs[utt]
        if len(d) != len(ids):
            raise ValueError(
                f"{durations_path}: utterance {utt} has {len(d)} durations for {len(ids)} model "
                f"tokens (add_blank={add_blank}); were they extracted with this experiment?"
            )
        items.append(DurationItem(utt, ids, d, spk_of.get(utt)))
    if missing:
        logger.warning(
            "%s: %d utterance(s) have no durations%s and are not used",
            tok_file,
            missing,
            " or speaker" if utt2spk is not None else "",
        )
    if not items:
        raise ValueError(f"no utterance of {tok_file} has durations in {durations_path}")
    return sorted(items, key=lambda it: it.utt)


def collate_durations(items: Sequence[DurationItem]) -> dict[str, Any]:
    """``tokens`` ``(B, T)`` long, ``token_lengths`` ``(B,)``, ``durations`` ``(B, T)`` float
    (0-padded), ``spk`` ``(B,)`` or None."""
    tokens, lengths = pad_tokens([it.tokens for it in items])
    durs = torch.zeros(tokens.shape, dtype=torch.float32)
    for i, it in enumerate(items):
        durs[i, : len(it.durations)] = torch.tensor(it.durations, dtype=torch.float32)
    spk = None
    if items[0].spk is not None:
        spk = torch.tensor([it.spk for it in items], dtype=torch.long)
    return {"tokens": tokens, "token_lengths": lengths, "durations": durs, "spk": spk}


def predictor_inputs(
    model: GlowTTS,
    tokens: torch.Tensor,
    token_lengths: torch.Tensor,
    spk: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The duration predictor's input: the detached encoder output (with the speaker vector
    concatenated for a multi-speaker model) ``(B, C, T_text)`` and the mask ``(B, 1, T_text)``.

    The encoder runs under ``no_grad`` in its current mode; the input is captured with a
    forward pre-hook on ``encoder.proj_w`` so the encoder code is used unchanged.
    """
    captured: dict[str, torch.Tensor] = {}

    def hook(_mod: nn.Module, args: tuple) -> None:
        captured["x"], captured["mask"] = args[0], args[1]

    handle = model.encoder.proj_w.register_forward_pre_hook(hook)
    try:
        with torch.no_grad():
            g = model._speaker(spk)
            mask = sequence_mask(token_lengths, tokens.shape[1]).unsqueeze(1).float()
            model.encoder(tokens, mask, g)
    finally:
        handle.remove()
    return captured["x"].detach(), captured["mask"].detach()


def duration_loss_terms(
    log_w: torch.Tensor, durations: torch.Tensor, mask: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Sum of squared log-duration errors and the token count, as in ``GlowTTS.forward``.

    Args:
        log_w: ``(B, T_text)`` predicted log-durations; durations ``(B, T_text)``; mask
            ``(B, T_text)`` float.

    Returns:
        ``(sum of (log_w - log(d + 1e-8))^2 over valid tokens, number of valid tokens)``;
        their ratio is the model's ``dur_loss``.
    """
    target = torch.log(durations + 1e-8) * mask
    return ((log_w - target) ** 2 * mask).sum(), mask.sum()


def _dp_loss(model: GlowTTS, batch: dict[str, Any], device: torch.device) -> tuple:
    tokens = batch["tokens"].to(device)
    lengths = batch["token_lengths"].to(device)
    spk = batch["spk"].to(device) if batch["spk"] is not None else None
    x, mask = predictor_inputs(model, tokens, lengths, spk)
    log_w = model.encoder.proj_w(x, mask).float().squeeze(1)
    return duration_loss_terms(log_w, batch["durations"].to(device), mask.squeeze(1))


@torch.no_grad()
def evaluate_duration_loss(
    model: GlowTTS, items: Sequence[DurationItem], device: torch.device, batch_size: int = 32
) -> float:
    """Token-weighted mean duration loss of the predictor over ``items`` (eval mode)."""
    dp = model.encoder.proj_w
    was = dp.training
    dp.eval()
    try:
        total, count = 0.0, 0.0
        for i in range(0, len(items), batch_size):
            s, n = _dp_loss(model, collate_durations(items[i : i + batch_size]), device)
            total, count = total + float(s), count + float(n)
    finally:
        dp.train(was)
    return total / max(count, 1.0)


def _cpu_state(module: nn.Module) -> dict[str, torch.Tensor]:
    """A CPU copy of a state dict (checkpoints load on any machine)."""
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


def _reset_predictor(dp: nn.Module) -> None:
    for m in dp.modules():
        if isinstance(m, nn.Conv1d):
            m.reset_parameters()
        elif hasattr(m, "gamma") and hasattr(m, "beta"):  # channel LayerNorm
            nn.init.ones_(m.gamma)
            nn.init.zeros_(m.beta)


def _batches(items: list[DurationItem], batch_size: int, rng: random.Random) -> Iterator[list]:
    order = list(range(len(items)))
    rng.shuffle(order)
    for i in range(0, len(order), batch_size):
        yield [items[j] for j in order[i : i + batch_size]]


def train_duration_predictor(
    exp_dir: str | Path,
    train_dir: str | Path,
    train_durations: str | Path,
    *,
    dev_dir: str | Path | None = None,
    dev_durations: str | Path | None = None,
    conf: dict[str, Any] | None = None,
    checkpoint: str | Path | None = None,
    device: str | torch.device = "cpu",
    out_dir: str | Path | None = None,
    refined_checkpoint: str | Path | None = None,
    train_utt2spk: str | Path | None = None,
    dev_utt2spk: str | Path | None = None,
) -> dict[str, Any]:
    """Train ``encoder.proj_w`` alone on MAS durations; everything else stays frozen.

    Loss: the model's duration loss (MSE of ``log(d + 1e-8)``, masked, per token). The
    dev loss is measured before training, every ``eval_interval_steps`` and at the end;
    the best predictor (lowest dev loss, the initial one included; the last one without
    a dev set) is kept.

    Writes into ``out_dir`` (default ``exp_dir/duration``): ``train.log``, ``loss.jsonl``,
    ``config.yaml`` (the resolved ``duration`` section) and ``dp_best.pth``
    (``{"proj_w": state_dict, "step", "dev_loss_before", "dev_loss_after", ...}``); and
    ``refined_checkpoint`` (default ``exp_dir/checkpoints/refined_dp.pth``): the source
    checkpoint's model weights with the predictor swapped in, ``{"model", "step",
    "refined_dp"}``, loadable by ``glowtts-decode --checkpoint``.

    Returns the summary stored in ``dp_best.pth`` (without the weights).
    """
    conf = resolve_duration_config(conf)
    device = torch.device(device)
    exp_dir = Path(exp_dir)
    out_dir = Path(out_dir) if out_dir else exp_dir / "duration"
    out_dir.mkdir(parents=True, exist_ok=True)
    refined = Path(refined_checkpoint or exp_dir / "checkpoints" / "refined_dp.pth")
    # train.log gets the INFO lines whatever the root level; the caller's handlers still see them
    with training_logging(
        out_dir / "train.log",
        logger_name=__name__,
        stderr=False,
        mode="w",
        fmt="%(asctime)s %(levelname)s %(message)s",
        propagate=None,
    ):
        torch.manual_seed(conf["seed"])
        exp = load_experiment(exp_dir, checkpoint, device, trainable=True)
        atomic_write_text(
            out_dir / "config.yaml", yaml.safe_dump({"duration": conf}, sort_keys=False)
        )
        items = {"train": _load_set(exp, train_dir, train_durations, train_utt2spk)}
        if (dev_dir is None) != (dev_durations is None):
            raise ValueError("give both --dev_dir and --dev_durations, or neither")
        if dev_dir is not None:
            items["dev"] = _load_set(exp, dev_dir, dev_durations, dev_utt2spk)
        dp = _prepare_predictor(exp.model, conf["init"])
        logger.info(
            "duration predictor (%d parameters, init=%s) from %s; %d train / %d dev utterances; "
            "device %s",
            sum(p.numel() for p in dp.parameters()), conf["init"], exp.checkpoint,
            len(items["train"]), len(items.get("dev", [])), device,
        )  # fmt: skip
        fit = _fit(exp.model, items["train"], items.get("dev", []), conf, device, out_dir)
        summary = _summary(fit, exp, conf, train_durations)
        _write_predictor(exp, fit["best_state"], summary, out_dir / "dp_best.pth", refined)
        return summary


def _summary(
    fit: dict[str, Any], exp: Experiment, conf: dict[str, Any], train_durations: str | Path
) -> dict[str, Any]:
    """What ``dp_best.pth`` and the refined checkpoint record about the run."""
    return {
        "step": fit["best_step"],
        "final_step": fit["step"],
        "dev_loss_before": fit["dev_before"],
        "dev_loss_after": fit["best_loss"],
        "dev_loss_final": fit["last_dev"],
        "source_checkpoint": str(exp.checkpoint),
        "init": conf["init"],
        "train_durations": str(train_durations),
    }


def _load_set(
    exp: Experiment, data_dir: str | Path, durations: str | Path, utt2spk: str | Path | None
) -> list[DurationItem]:
    """The items of one set, with the experiment's blanks, vocabulary and speakers."""
    u2s, spk_list = _speakers(exp.model, exp.exp_dir, data_dir, utt2spk)
    return load_duration_items(
        data_dir,
        durations,
        add_blank=exp.add_blank,
        n_vocab=int(exp.config["n_vocab"]),
        utt2spk=u2s,
        spk_list=spk_list,
    )


def _prepare_predictor(model: GlowTTS, init: str) -> nn.Module:
    """Freeze the model in eval mode (the encoder runs as at inference); the predictor
    alone trains, re-initialised with ``init == "scratch"``."""
    dp = model.encoder.proj_w
    model.requires_grad_(False)
    model.eval()
    if init == "scratch":
        _reset_predictor(dp)
    dp.requires_grad_(True)
    dp.train()
    return dp


def _fit(
    model: GlowTTS,
    train_items: list[DurationItem],
    dev_items: list[DurationItem],
    conf: dict[str, Any],
    device: torch.device,
    out_dir: Path,
) -> dict[str, Any]:
    """The training loop; returns the step reached and the best predictor (lowest dev
    loss, the initial one included; the last one without a dev set) with its loss."""
    dp = model.encoder.proj_w
    opt = build_optimizer(dp, conf)
    loss_log = LossLog(out_dir / "loss.jsonl")
    loss_log.clear()

    def dev_eval(step: int) -> float | None:
        if not dev_items:
            return None
        loss = evaluate_duration_loss(model, dev_items, device, conf["batch_size"])
        logger.info("dev at step %d: dur_loss %.4f per token", step, loss)
        loss_log.append({"split": "dev", "step": step, "dur_loss": loss})
        return loss

    dev_before = last_dev = dev_eval(0)
    best = {"best_step": 0, "best_loss": dev_before, "best_state": _cpu_state(dp)}
    rng = random.Random(conf["seed"])
    step, acc, acc_n = 0, 0.0, 0.0
    while step < conf["max_steps"]:
        for items in _batches(train_items, conf["batch_size"], rng):
            s, n = _train_step(model, opt, collate_durations(items), conf, device)
            step += 1
            acc, acc_n = acc + s, acc_n + n
            if conf["log_interval_steps"] and step % conf["log_interval_steps"] == 0:
                logger.info("step %d: train dur_loss %.4f per token", step, acc / acc_n)
                loss_log.append({"split": "train", "step": step, "dur_loss": acc / acc_n})
                acc, acc_n = 0.0, 0.0
            if step == conf["max_steps"] or (
                conf["eval_interval_steps"] and step % conf["eval_interval_steps"] == 0
            ):
                last_dev = dev_eval(step)
                if last_dev is not None and last_dev < best["best_loss"]:
                    best = {"best_step": step, "best_loss": last_dev, "best_state": _cpu_state(dp)}
            if step >= conf["max_steps"]:
                break
    if not dev_items:
        best = {"best_step": step, "best_loss": None, "best_state": _cpu_state(dp)}
    return {**best, "step": step, "dev_before": dev_before, "last_dev": last_dev}


def _train_step(
    model: GlowTTS,
    opt: torch.optim.Optimizer,
    batch: dict[str, Any],
    conf: dict[str, Any],
    device: torch.device,
) -> tuple[float, float]:
    """One optimizer step on the predictor; returns the batch's loss sum and token count."""
    s, n = _dp_loss(model, batch, device)
    opt.zero_grad(set_to_none=True)
    (s / n).backward()
    if conf["grad_clip_value"] > 0:
        torch.nn.utils.clip_grad_value_(model.encoder.proj_w.parameters(), conf["grad_clip_value"])
    opt.step()
    return float(s.detach()), float(n)


def _write_predictor(
    exp: Experiment,
    best_state: dict[str, torch.Tensor],
    summary: dict[str, Any],
    dp_path: Path,
    refined: Path,
) -> None:
    """``dp_best.pth`` and the source checkpoint with the predictor swapped in."""
    atomic_save({"proj_w": best_state, **summary}, dp_path)
    state = exp.state
    model_sd = dict(state["model"] if "model" in state else state)
    for k, v in best_state.items():
        if DP_PREFIX + k not in model_sd:
            raise KeyError(f"{exp.checkpoint} has no {DP_PREFIX + k}: not a Glow-TTS checkpoint?")
        model_sd[DP_PREFIX + k] = v.detach().cpu()
    atomic_save({"model": model_sd, "step": state.get("step", 0), "refined_dp": summary}, refined)
    if summary["dev_loss_before"] is not None:
        logger.info(
            "duration predictor: dev dur_loss %.4f before -> %.4f after (best at step %d of %d)",
            summary["dev_loss_before"], summary["dev_loss_after"], summary["step"],
            summary["final_step"],
        )  # fmt: skip
    logger.info("wrote %s and %s", dp_path, refined)
