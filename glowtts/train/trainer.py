"""Glow-TTS training loop: AMP, DDP, gradient accumulation, checkpoints, resume, logging.

The model is any ``nn.Module`` with the Glow-TTS training interface::

    out = model(tokens (B, T_text), token_lengths (B,), feats (B, T_mel, n_mels),
                feat_lengths (B,), spk=None | (B,))
    out["loss"], out["mle_loss"], out["dur_loss"]  scalars; out["path"] (B, T_text, T_mel)
    model.data_dependent_init(tokens, token_lengths, feats, feat_lengths, spk=None)
    model.inference(tokens, token_lengths, noise_scale=..) -> {"mel": (B, T, n_mels), ...}

Files written under ``exp_dir`` (rank 0 only): ``train.log``, ``loss.jsonl`` (one record
per optimizer step and per dev pass), ``checkpoints/step_XXXXXXXX.pth`` + ``best.pth``,
``tensorboard/`` (when installed), ``images/`` (loss curves, dev mel/alignment PNGs).
The pieces around the loop have their own modules: :mod:`~glowtts.train.logs` (train.log,
loss.jsonl), :mod:`~glowtts.train.signals` (stop requests), :mod:`~glowtts.train.resume`,
:mod:`~glowtts.train.images` and :mod:`~glowtts.train.checkpoint`.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import random
import signal
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from glowtts import __version__
from glowtts.data.collate import collate_tts
from glowtts.data.sampler import BucketBatchSampler
from glowtts.train import checkpoint as ckpt
from glowtts.train import resume as resume_lib
from glowtts.train.config import resolve_train_config
from glowtts.train.distributed import DistInfo
from glowtts.train.images import TensorBoard, write_final_images
from glowtts.train.logs import LossLog, Throughput, training_logging
from glowtts.train.schedule import build_optimizer, build_scheduler
from glowtts.train.signals import StopRequest, ignore_stop_signals, worker_iter
from glowtts.utils import describe_precision, resolve_precision

logger = logging.getLogger("glowtts.train")

_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
_LOSS_KEYS = ("loss", "mle_loss", "dur_loss")


class NonFiniteLossError(RuntimeError):
    """Raised when more than ``max_bad_steps`` steps had non-finite losses or gradients."""


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def compile_model(model: torch.nn.Module, mode: str, backend: str = "inductor") -> int:
    """``torch.compile`` the encoder and the flow decoder in place (the whole model if
    it has neither), as ``train.compile`` does; returns how many modules. MAS and the
    loss between them stay eager (MAS reads its lengths on the host). State-dict keys
    are unchanged, so checkpoints load with compile on or off. ``mode``: one of
    :data:`~glowtts.train.config.COMPILE_MODES` other than ``none``."""
    parts = [getattr(model, n, None) for n in ("encoder", "decoder")]
    parts = [p for p in parts if isinstance(p, torch.nn.Module)] or [model]
    kw: dict[str, Any] = {"backend": backend}
    if mode != "default":
        kw["mode"] = mode
    for p in parts:
        p.compile(**kw)
    return len(parts)


def _lengths_of(ds: Dataset) -> list[int]:
    lengths = getattr(ds, "feat_lengths", None)
    if lengths is None:
        raise TypeError("Trainer: the dataset must expose feat_lengths (frames per utterance)")
    return list(lengths)


class Trainer:
    """Train a Glow-TTS model; :meth:`fit` runs to ``max_steps`` / ``max_epochs``.

    Args:
        model: the (unwrapped) model; moved to ``dist_info.device``.
        train_set, dev_set: datasets of dict items (see :class:`glowtts.data.TTSDataset`)
            with a ``feat_lengths`` list.
        conf: the ``train:`` section (validated and completed here).
        exp_dir: experiment directory.
        dist_info: rank / world / device (default: single process on CPU).
        resume: continue from the newest valid checkpoint in ``exp_dir/checkpoints``;
            or an :class:`~glowtts.train.resume.Opened`: the caller already chose it.
        d_model: width in the Noam formula (``train.noam_d_model`` overrides it).
        meta: primitive-only extra info stored in every checkpoint (model config, n_vocab).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        train_set: Dataset,
        dev_set: Dataset | None,
        conf: dict,
        exp_dir: str | Path,
        *,
        dist_info: DistInfo | None = None,
        resume: bool | resume_lib.Opened = True,
        d_model: int = 192,
        meta: dict | None = None,
        collate_fn=collate_tts,
    ) -> None:
        self.conf = resolve_train_config(conf)
        self.model = model
        self.train_set = train_set
        self.dev_set = dev_set
        self.exp_dir = Path(exp_dir)
        self.ckpt_dir = self.exp_dir / "checkpoints"
        self.img_dir = self.exp_dir / "images"
        self.dist = dist_info or DistInfo()
        self.loss_log = LossLog(self.exp_dir / "loss.jsonl", enabled=self.dist.is_main)
        self.device = self.dist.device
        self.resume = resume
        self.d_model = self.conf["noam_d_model"] or d_model
        self.meta = meta or {}
        self.collate_fn = self._padded_collate(collate_fn, model)
        self.precision = resolve_precision(self.conf["precision"], self.device)
        self.autocast_dtype = _DTYPES[self.precision]
        if self.precision == "fp16" and self.device.type == "cpu":
            logger.warning("fp16 on CPU is slow and only useful for testing; prefer bf16")

        # state
        self.step = 0
        self.epoch = 0
        self.position = 0
        self.bad_steps = 0
        self.best_dev_loss = math.inf
        self.last_dev_step = -1
        self.last_saved_step = -1
        self._tb: TensorBoard | None = None
        self.stop = StopRequest()  # catches SIGTERM/SIGINT during fit()

    # ------------------------------------------------------------------ utilities
    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    @property
    def stop_signal(self) -> int | None:
        """The signal (SIGTERM/SIGINT) that asked :meth:`fit` to stop, or None."""
        return self.stop.signum

    def _padded_collate(self, collate_fn, model: torch.nn.Module):
        if collate_fn is not collate_tts:
            return collate_fn
        # frames: also a multiple of the model's squeeze, or the flow cannot fold them
        frames = math.lcm(self.conf["pad_multiple_frames"], int(getattr(model, "squeeze", 1)))
        if self.conf["pad_multiple_tokens"] > 1 or frames > 1:
            return functools.partial(
                collate_tts,
                pad_multiple_tokens=self.conf["pad_multiple_tokens"],
                pad_multiple_frames=frames,
            )
        return collate_fn

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=self.autocast_dtype)

    def _to_device(self, batch: dict) -> dict:
        nb = self.device.type == "cuda"
        out = dict(batch)
        for k in ("tokens", "token_lengths", "feats", "feat_lengths", "spk"):
            if out.get(k) is not None:
                out[k] = out[k].to(self.device, non_blocking=nb)
        return out

    def _forward(self, model: torch.nn.Module, b: dict) -> dict:
        if self.conf["compile"] == "reduce-overhead":
            # a new iteration: CUDA-graph outputs of the last one may be overwritten
            torch.compiler.cudagraph_mark_step_begin()
        return model(b["tokens"], b["token_lengths"], b["feats"], b["feat_lengths"], spk=b["spk"])

    def _all_reduce(self, t: torch.Tensor) -> torch.Tensor:
        if self.dist.distributed:
            dist.all_reduce(t)
        return t

    def _make_loader(self, ds: Dataset, sampler: BucketBatchSampler, seed: int) -> DataLoader:
        # A private generator: iterating must not draw from the global torch RNG, or a
        # resumed run (new iterator mid-epoch) would diverge from an uninterrupted one.
        g = torch.Generator()
        g.manual_seed(seed)
        nw = self.conf["num_workers"]
        return DataLoader(
            ds,
            batch_sampler=sampler,
            num_workers=nw,
            collate_fn=self.collate_fn,
            pin_memory=self.device.type == "cuda",
            generator=g,
            worker_init_fn=ignore_stop_signals if nw > 0 else None,
            persistent_workers=False,
        )

    # ------------------------------------------------------------------ checkpoints
    def _state(self) -> dict[str, Any]:
        rng = ckpt.rng_state()
        if self.dist.distributed:
            all_rng: list[Any] = [None] * self.dist.world_size
            dist.all_gather_object(all_rng, rng)
        else:
            all_rng = [rng]
        state = {
            "step": self.step,
            "epoch": self.epoch,
            # the trainer's (epoch, position), not the sampler's: at an epoch end the
            # sampler still points at the finished epoch
            "sampler": {**self.sampler.state_dict(self.position), "epoch": self.epoch},
            "model": self.unwrapped.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "bad_steps": self.bad_steps,
            "best_dev_loss": self.best_dev_loss,
            "last_dev_step": self.last_dev_step,
            "rng": all_rng,
            "world_size": self.dist.world_size,
            "train_conf": self.conf,
            "meta": self.meta,
            "version": __version__,
        }
        if self.scaler is not None:
            state["scaler"] = self.scaler.state_dict()
        return state

    def _load_state(self, st: dict[str, Any]) -> None:
        """Inverse of :meth:`_state`, RNG streams aside."""
        self.unwrapped.load_state_dict(st["model"])
        self.optimizer.load_state_dict(st["optimizer"])
        self.scheduler.load_state_dict(st["scheduler"])
        if self.scaler is not None and "scaler" in st:
            self.scaler.load_state_dict(st["scaler"])
        self.sampler.load_state_dict(st["sampler"])
        self.epoch, self.position = self.sampler.epoch, self.sampler.position
        self.step = int(st["step"])
        self.bad_steps = int(st["bad_steps"])
        self.best_dev_loss = float(st["best_dev_loss"])
        self.last_dev_step = int(st["last_dev_step"])
        self.last_saved_step = self.step

    def save(self) -> Path | None:
        """Write ``step_XXXXXXXX.pth`` atomically (rank 0) and prune old ones."""
        state = self._state()  # collective under DDP: every rank calls it
        path = self.ckpt_dir / ckpt.step_name(self.step)
        if self.is_main:
            _, removed = ckpt.save_step_checkpoint(
                state, self.ckpt_dir, self.step, self.conf["keep_last"]
            )
            logger.info(
                "saved %s%s",
                path,
                f" (removed {', '.join(p.name for p in removed)})" if removed else "",
            )
        self.last_saved_step = self.step
        return path if self.is_main else None

    def _try_resume(self) -> bool:
        if isinstance(self.resume, resume_lib.Opened):
            found = self.resume.found
        else:
            found = resume_lib.open_run(
                self.ckpt_dir, self.loss_log, resume=self.resume, is_main=self.is_main
            )
        if found is None:
            return False
        path, st = found
        self._load_state(st)
        self._resume_rng = resume_lib.resumed_rng(st, self.dist)
        if self._resume_rng is None:
            set_seed(self.conf["seed"] + self.dist.rank + 7919 * self.step)
        if self.is_main:
            resume_lib.trim_loss_log(self.loss_log, self.step, self.last_dev_step)
            logger.info(
                "resumed from %s: step %d, epoch %d, batch %d of the epoch",
                path,
                self.step,
                self.epoch,
                self.position,
            )
        return True

    # ------------------------------------------------------------------ setup
    def _setup(self) -> None:
        c, d = self.conf, self.dist
        set_seed(c["seed"] + d.rank)
        self.unwrapped = self.model.to(self.device)
        self.optimizer = build_optimizer(self.unwrapped, c)
        self.scheduler = build_scheduler(self.optimizer, self.d_model, c["warmup_steps"])
        self.scaler = torch.amp.GradScaler(self.device.type) if self.precision == "fp16" else None
        self.sampler = self._sampler(self.train_set, shuffle=c["shuffle"])
        self.dev_sampler = None
        if self.dev_set is not None:
            self.dev_sampler = self._sampler(self.dev_set, shuffle=False)
        if self.is_main:
            self._log_model_info()
        self._resume_rng = None
        resumed = self._try_resume()
        if not resumed and c["data_dependent_init"]:
            self._data_dependent_init()
        if c["compile"] != "none":
            self._compile()  # after the ActNorm init: its one-off branch stays eager
        self.model_ddp: torch.nn.Module = self.unwrapped
        if d.distributed:
            # DDP broadcasts rank 0's parameters and buffers (incl. the ActNorm init)
            self.model_ddp = DistributedDataParallel(
                self.unwrapped,
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=c["ddp_find_unused_parameters"],
            )
        if c["tensorboard"] and self.is_main:
            self._tb = TensorBoard.open(self.exp_dir / "tensorboard", purge_step=self.step)
        if self._resume_rng is not None:
            ckpt.set_rng_state(self._resume_rng)  # last: nothing above may draw after it

    def _sampler(self, ds: Dataset, shuffle: bool) -> BucketBatchSampler:
        c = self.conf
        return BucketBatchSampler(
            _lengths_of(ds),
            batch_frames=c["batch_frames"],
            batch_size=c["batch_size"],
            shuffle=shuffle,
            seed=c["seed"],
            num_replicas=self.dist.world_size,
            rank=self.dist.rank,
        )

    def _log_model_info(self) -> None:
        n_par = sum(p.numel() for p in self.unwrapped.parameters())
        logger.info(
            "model: %.2f M parameters; device %s; %d rank(s); precision %s; "
            "%d train / %s dev utterances",
            n_par / 1e6,
            self.device,
            self.dist.world_size,
            describe_precision(self.conf["precision"], self.device),
            len(self.train_set),
            len(self.dev_set) if self.dev_set is not None else "no",
        )

    def _compile(self) -> None:
        c = self.conf
        n = compile_model(self.unwrapped, c["compile"], c["compile_backend"])
        if self.is_main:
            logger.info(
                "torch.compile (%s, backend %s) of %d module(s); the first steps of each "
                "new batch shape compile (train.pad_multiple_* bound the shapes)",
                c["compile"],
                c["compile_backend"],
                n,
            )

    def _data_dependent_init(self) -> None:
        init = getattr(self.unwrapped, "data_dependent_init", None)
        if init is None:
            logger.warning("model has no data_dependent_init(): skipping the ActNorm init")
            return
        idx = self.sampler.rank_batches(0)[0]
        b = self._to_device(self.collate_fn([self.train_set[i] for i in idx]))
        self.unwrapped.train()
        init(b["tokens"], b["token_lengths"], b["feats"], b["feat_lengths"], spk=b["spk"])
        if self.is_main:
            logger.info("data-dependent ActNorm init on a batch of %d utterances", len(idx))

    def _done(self) -> bool:
        c = self.conf
        return bool(
            (c["max_steps"] and self.step >= c["max_steps"])
            or (c["max_epochs"] and self.epoch >= c["max_epochs"])
        )

    # ------------------------------------------------------------------ main loop
    def fit(self) -> dict:
        """Train; returns a summary dict (step, epoch, best dev loss, bad steps, last dev)."""
        log_file = self.exp_dir / "train.log" if self.is_main else None
        with training_logging(log_file), self.stop:
            try:
                return self._fit()
            finally:
                if self._tb is not None:
                    self._tb.close()
                    self._tb = None

    def _fit(self) -> dict:
        self._setup()
        self.unwrapped.train()
        self._bar = tqdm(
            total=self.conf["max_steps"] or None,
            initial=self.step,
            disable=not (self.is_main and self.conf["progress_bar"]),
            dynamic_ncols=True,
            desc="train",
        )
        self._throughput = Throughput()
        self._group = self._new_group()
        stop = self._done()
        while not stop:
            stop = self._train_epoch()
        self._bar.close()
        if self.stop_signal is not None and not self._done():
            return self._stop_early()
        if self.last_dev_step != self.step:
            self.evaluate()
        if self.last_saved_step != self.step:
            self.save()
        if self.is_main:
            self._final_images()
            logger.info(
                "training finished at step %d (epoch %d); best dev loss %.4f; %d skipped steps",
                self.step,
                self.epoch,
                self.best_dev_loss,
                self.bad_steps,
            )
        return self._summary(stop_signal=None)

    def _train_epoch(self) -> bool:
        """The rest of the current epoch; returns whether training is over."""
        self.sampler.set_epoch(self.epoch, self.position)
        if self.position == 0 and self.is_main:
            self._log_padding()
        n_left, accum = len(self.sampler), self.conf["accum_grad"]
        seed = self.conf["seed"] * 100003 + self.epoch * 1009 + self.position
        loader = self._make_loader(self.train_set, self.sampler, seed)
        with worker_iter(loader) as batches:
            for i, batch in enumerate(batches):
                self.position += 1
                self._group["n"] += 1
                sync = self._group["n"] == accum or i == n_left - 1
                self._micro_step(batch, sync, accum)
                if not sync:
                    continue
                stepped = self._optimizer_step()
                g, self._group = self._group, self._new_group()
                if not stepped:
                    continue
                self.step += 1
                self._after_step(g)
                if self._done() or self.stop.agreed(self.dist):
                    return True
        self.epoch += 1
        self.position = 0
        if self.conf["eval_every_epoch"]:
            self.evaluate()
        return self._done()

    def _after_step(self, g: dict) -> None:
        """Log the optimizer step of micro-batch group ``g``; images, checkpoint, dev pass."""
        c = self.conf
        self._throughput.add(g["frames"])
        rec = {
            "split": "train",
            "step": self.step,
            "epoch": self.epoch,
            **{k: g[k] / g["n"] for k in _LOSS_KEYS},
            "lr": self.scheduler.get_last_lr()[0],
            "grad_norm": g["grad_norm"],
            "frames": g["frames"],
        }
        self.loss_log.append(rec)
        self._bar.update(1)
        if self.step % c["log_interval_steps"] == 0 or self.step == 1:
            self._log_train(rec, self._throughput.rate())
        images = self._tb is not None and c["image_interval_steps"]
        if images and self.step % c["image_interval_steps"] == 0 and g["batch"] is not None:
            if g["path"] is not None:
                self._tb.alignment_and_mel(g["path"], g["batch"], self.step)
        if self.step % c["save_interval_steps"] == 0:
            self.save()
        if c["eval_interval_steps"] and self.step % c["eval_interval_steps"] == 0:
            self.evaluate()

    def _log_train(self, rec: dict, fps: float) -> None:
        self._bar.set_postfix(loss=f"{rec['loss']:.3f}", fps=f"{fps:.0f}")
        if self.is_main:
            logger.info(
                "step %d epoch %d: loss %.4f (mle %.4f dur %.4f) lr %.3e "
                "grad_norm %.3f %.0f frames/s",
                self.step,
                self.epoch,
                rec["loss"],
                rec["mle_loss"],
                rec["dur_loss"],
                rec["lr"],
                rec["grad_norm"],
                fps,
            )
        if self._tb is not None:
            self._tb.scalars("train", rec, (*_LOSS_KEYS, "lr", "grad_norm"), self.step)
            self._tb.writer.add_scalar("train/frames_per_s", fps, self.step)

    def _log_padding(self) -> None:
        ps = self.sampler.padding_stats()
        logger.info(
            "epoch %d: %d batches per rank, padding waste %.1f%% (%d real / %d padded frames)",
            self.epoch,
            ps["batches_per_rank"],
            100 * ps["padding_waste"],
            ps["frames"],
            ps["padded_frames"],
        )

    def _stop_early(self) -> dict:
        """After a stop signal: a scheduler's grace period is short, so the checkpoint
        first and no dev pass."""
        if self.last_saved_step != self.step:
            self.save()
        if self.is_main:
            logger.warning(
                "stopped by %s at step %d (epoch %d) with a checkpoint; run the same "
                "command again to resume",
                signal.Signals(self.stop_signal).name,
                self.step,
                self.epoch,
            )
        return self._summary(stop_signal=self.stop_signal)

    def _summary(self, stop_signal: int | None) -> dict:
        """What :meth:`fit` returns; ``stop_signal``: the signal that stopped it early."""
        return {
            "step": self.step,
            "epoch": self.epoch,
            "best_dev_loss": self.best_dev_loss,
            "bad_steps": self.bad_steps,
            "last_dev": getattr(self, "last_dev", None),
            "stop_signal": stop_signal,
        }

    @staticmethod
    def _new_group() -> dict:
        return {
            "n": 0,
            "bad": False,
            "loss": 0.0,
            "mle_loss": 0.0,
            "dur_loss": 0.0,
            "frames": 0.0,
            "grad_norm": float("nan"),
            "utts": [],
            "path": None,
            "batch": None,
        }

    def _micro_step(self, batch: dict, sync: bool, accum: int) -> None:
        """Forward + backward of one micro-batch; gradients accumulate until ``sync``."""
        b = self._to_device(batch)
        ddp = isinstance(self.model_ddp, DistributedDataParallel)
        ctx = self.model_ddp.no_sync() if (ddp and not sync) else contextlib.nullcontext()
        with ctx:
            with self._autocast():
                out = self._forward(self.model_ddp, b)
            loss = out["loss"].float()
            vals = torch.stack(
                [loss.detach(), out["mle_loss"].detach().float(), out["dur_loss"].detach().float()]
            )
            finite = torch.isfinite(vals).all()
            stats = torch.cat(
                [
                    torch.where(finite, vals, torch.zeros_like(vals)),
                    (~finite).float().reshape(1),
                    b["feat_lengths"].sum().float().reshape(1),
                ]
            )
            stats = self._all_reduce(stats).tolist()  # one sync: the skip decision is global
            w = self.dist.world_size
            g = self._group
            g["frames"] += stats[4]
            if stats[3] > 0:
                g["bad"] = True
                g["utts"] += list(batch["utt_ids"])
                return  # every rank skips the backward: no pending DDP reduction
            g["loss"] += stats[0] / w
            g["mle_loss"] += stats[1] / w
            g["dur_loss"] += stats[2] / w
            # keep only what the image logger needs, not the autograd graph
            g["path"] = out["path"].detach() if "path" in out else None
            g["batch"] = batch
            scaled = loss / accum
            if self.scaler is not None:
                scaled = self.scaler.scale(scaled)
            scaled.backward()

    def _optimizer_step(self) -> bool:
        """Clip and step, or skip a non-finite step. Returns whether the optimizer stepped."""
        g = self._group
        params = [p for p in self.unwrapped.parameters() if p.grad is not None]
        if not g["bad"]:
            if self.scaler is not None:
                self.scaler.unscale_(self.optimizer)
            grads = [p.grad for p in params]
            gn = float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0
            g["grad_norm"] = gn
            # fp16 overflow is the GradScaler's business (it skips and lowers the scale)
            if not math.isfinite(gn) and self.scaler is None:
                g["bad"] = True
                g["utts"] = list((g["batch"] or {}).get("utt_ids", []))
        if g["bad"]:
            self.optimizer.zero_grad(set_to_none=True)
            if self.scaler is not None:
                self.scaler.update()  # a skipped step still needs update() after unscale_
            self.bad_steps += 1
            logger.warning(
                "non-finite loss or gradient at step %d (epoch %d): step skipped (%d so far); "
                "utterances: %s",
                self.step + 1,
                self.epoch,
                self.bad_steps,
                " ".join(g["utts"][:16]),
            )
            if self.bad_steps > self.conf["max_bad_steps"]:
                raise NonFiniteLossError(
                    f"training stopped: {self.bad_steps} steps had non-finite losses or gradients "
                    f"(train.max_bad_steps={self.conf['max_bad_steps']}); last at step "
                    f"{self.step + 1}. Check the data (utterances above), lower "
                    "train.learning_rate, or use precision fp32/bf16 instead of fp16."
                )
            return False
        if self.conf["grad_clip_value"] > 0:
            torch.nn.utils.clip_grad_value_(params, self.conf["grad_clip_value"])
        if self.scaler is not None:
            scale = self.scaler.get_scale()
            self.scaler.step(self.optimizer)
            self.scaler.update()
            if self.scaler.get_scale() < scale:
                # fp16 overflow: GradScaler skipped the update; not a step, not a bad step
                self.optimizer.zero_grad(set_to_none=True)
                logger.info(
                    "fp16 gradient overflow: update skipped, loss scale %g -> %g",
                    scale,
                    self.scaler.get_scale(),
                )
                return False
        else:
            self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return True

    # ------------------------------------------------------------------ evaluation
    def _rng_fork(self):
        devs = [self.device] if self.device.type == "cuda" else []
        return torch.random.fork_rng(devices=devs)

    def _dev_sums(self) -> torch.Tensor:
        """``[mle * frames, frames, dur * tokens, tokens]`` summed over this rank's dev set."""
        model = self.unwrapped
        model.eval()
        sums = torch.zeros(4, dtype=torch.float64)
        self.dev_sampler.set_epoch(0, 0)
        loader = self._make_loader(self.dev_set, self.dev_sampler, self.conf["seed"])
        # the dev pass must not shift the training RNG streams
        with self._rng_fork(), worker_iter(loader) as batches:
            for batch in batches:
                b = self._to_device(batch)
                with self._autocast():
                    out = self._forward(model, b)
                nf = float(out.get("n_frames", b["feat_lengths"].sum()))
                nt = float(b["token_lengths"].sum())
                sums += torch.tensor(
                    [float(out["mle_loss"]) * nf, nf, float(out["dur_loss"]) * nt, nt],
                    dtype=torch.float64,
                )
        model.train()
        return sums

    @torch.no_grad()
    def evaluate(self) -> dict | None:
        """Dev pass: frame-weighted mean MLE loss, token-weighted mean duration loss.

        Saves ``best.pth`` when ``mle + dur`` improves. Collective under DDP.
        """
        self.last_dev_step = self.step
        if self.dev_set is None or self.dev_sampler is None:
            return None
        sums = self._dev_sums()
        if self.dist.distributed:
            sums = sums.to(self.device)
            dist.all_reduce(sums)
            sums = sums.cpu()
        mle, dur = float(sums[0] / sums[1]), float(sums[2] / sums[3])
        res = {"split": "dev", "step": self.step, "epoch": self.epoch, "loss": mle + dur}
        res.update({"mle_loss": mle, "dur_loss": dur})
        self.last_dev = res
        self.loss_log.append(res)
        if self._tb is not None:
            self._tb.scalars("dev", res, _LOSS_KEYS, self.step)
        improved = math.isfinite(res["loss"]) and res["loss"] < self.best_dev_loss
        if self.is_main:
            logger.info(
                "dev at step %d: loss %.4f (mle %.4f per frame, dur %.4f per token)%s",
                self.step,
                res["loss"],
                mle,
                dur,
                " best" if improved else "",
            )
        if improved:
            self.best_dev_loss = res["loss"]
            path = self.save()  # re-save this step with the new best (collective)
            if self.is_main and path is not None:
                ckpt.mark_best(path, self.ckpt_dir)
        return res

    # ------------------------------------------------------------------ images
    def _final_images(self) -> None:
        sample = self._dev_sample if self.dev_set is not None else None
        write_final_images(self.img_dir, self.loss_log.path, self.step, sample)

    @torch.no_grad()
    def _dev_sample(self) -> tuple[dict, np.ndarray, np.ndarray | None]:
        """The first dev utterance, its MAS alignment ``(T_text, T_mel)`` and the mel
        ``(T_gen, n_mels)`` synthesised from its text (None without ``inference``)."""
        model = self.unwrapped
        model.eval()
        item = self.dev_set[0]
        b = self._to_device(self.collate_fn([item]))
        with self._rng_fork():
            out = self._forward(model, b)
            gen = None
            if hasattr(model, "inference"):
                inf = model.inference(b["tokens"], b["token_lengths"], spk=b["spk"])
                gen = inf["mel"][0, : int(inf["mel_lengths"][0])].float().cpu().numpy()
        model.train()
        tl = int(b["token_lengths"][0])
        return item, out["path"][0, :tl].float().cpu().numpy(), gen
