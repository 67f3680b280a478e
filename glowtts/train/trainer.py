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
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import math
import random
import signal
import sys
import threading
import time
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
from glowtts.train.config import resolve_train_config
from glowtts.train.distributed import DistInfo
from glowtts.train.plots import plot_loss_curves, plot_mel_alignment, read_loss_log
from glowtts.train.schedule import build_optimizer, build_scheduler

logger = logging.getLogger("glowtts.train")

_DTYPES = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}


class NonFiniteLossError(RuntimeError):
    """Raised when more than ``max_bad_steps`` steps had non-finite losses or gradients."""


def set_seed(seed: int) -> None:
    """Seed python, numpy and torch (all devices)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _worker_init(_: int) -> None:
    """DataLoader workers ignore SIGINT/SIGTERM: a scheduler signals the whole process
    group, and the main process must outlive its workers to write the last checkpoint
    (the loader ends them when it is torn down)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


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
        resume: continue from the newest valid checkpoint in ``exp_dir/checkpoints``.
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
        resume: bool = True,
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
        self.loss_log = self.exp_dir / "loss.jsonl"
        self.dist = dist_info or DistInfo()
        self.device = self.dist.device
        self.resume = resume
        self.d_model = self.conf["noam_d_model"] or d_model
        self.meta = meta or {}
        self.collate_fn = collate_fn
        if collate_fn is collate_tts:
            # frames: also a multiple of the model's squeeze, or the flow cannot fold them
            frames = math.lcm(self.conf["pad_multiple_frames"], int(getattr(model, "squeeze", 1)))
            if self.conf["pad_multiple_tokens"] > 1 or frames > 1:
                self.collate_fn = functools.partial(
                    collate_tts,
                    pad_multiple_tokens=self.conf["pad_multiple_tokens"],
                    pad_multiple_frames=frames,
                )
        self.autocast_dtype = _DTYPES[self.conf["precision"]]
        if self.conf["precision"] == "fp16" and self.device.type == "cpu":
            logger.warning("fp16 on CPU is slow and only useful for testing; prefer bf16")

        # state
        self.step = 0
        self.epoch = 0
        self.position = 0
        self.bad_steps = 0
        self.best_dev_loss = math.inf
        self.last_dev_step = -1
        self.last_saved_step = -1
        self._tb = None
        self._handlers: list[logging.Handler] = []
        self.stop_signal: int | None = None  # set by SIGTERM/SIGINT during fit()

    # ------------------------------------------------------------------ utilities
    @property
    def is_main(self) -> bool:
        return self.dist.is_main

    def _setup_logging(self) -> None:
        root = logging.getLogger("glowtts")
        self._saved_log = (root.level, root.propagate)
        if self.is_main:
            self.exp_dir.mkdir(parents=True, exist_ok=True)
            fmt = logging.Formatter("%(asctime)s %(levelname)s [%(name)s] %(message)s")
            fh = logging.FileHandler(self.exp_dir / "train.log", encoding="utf-8")
            fh.setFormatter(fmt)
            sh = logging.StreamHandler(sys.stderr)
            sh.setFormatter(fmt)
            self._handlers = [fh, sh]
            for h in self._handlers:
                root.addHandler(h)
            root.setLevel(logging.INFO)
        else:
            root.setLevel(logging.WARNING)
        root.propagate = False

    def _teardown_logging(self) -> None:
        root = logging.getLogger("glowtts")
        for h in self._handlers:
            root.removeHandler(h)
            h.close()
        self._handlers = []
        root.setLevel(self._saved_log[0])
        root.propagate = self._saved_log[1]

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
            worker_init_fn=_worker_init if nw > 0 else None,
            persistent_workers=False,
        )

    def _log_record(self, rec: dict) -> None:
        if not self.is_main:
            return
        with open(self.loss_log, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")

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

    def save(self) -> Path | None:
        """Write ``step_XXXXXXXX.pth`` atomically (rank 0) and prune old ones."""
        state = self._state()  # collective under DDP: every rank calls it
        path = self.ckpt_dir / ckpt.step_name(self.step)
        if self.is_main:
            ckpt.atomic_save(state, path)
            removed = ckpt.prune_checkpoints(self.ckpt_dir, self.conf["keep_last"])
            logger.info(
                "saved %s%s",
                path,
                f" (removed {', '.join(p.name for p in removed)})" if removed else "",
            )
        self.last_saved_step = self.step
        return path if self.is_main else None

    def _try_resume(self) -> bool:
        found = ckpt.find_latest_valid(self.ckpt_dir) if self.resume else None
        if found is None:
            if self.resume and self.is_main:
                logger.info("no checkpoint in %s: training from scratch", self.ckpt_dir)
            if not self.resume and self.is_main:
                if self.ckpt_dir.is_dir() and any(self.ckpt_dir.iterdir()):
                    # moved, not deleted: a stale higher step number would otherwise win
                    # the next resume
                    aside = self.ckpt_dir.with_name(
                        f"checkpoints.old_{time.strftime('%Y%m%d-%H%M%S')}"
                    )
                    self.ckpt_dir.rename(aside)
                    logger.warning("--resume false: moved old checkpoints to %s", aside)
                self.loss_log.unlink(missing_ok=True)
            return False
        path, st = found
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
        rngs = st["rng"]
        if len(rngs) == self.dist.world_size:
            self._resume_rng = rngs[self.dist.rank]
        else:
            logger.warning(
                "checkpoint from %d ranks, now %d: RNG streams reseeded",
                len(rngs),
                self.dist.world_size,
            )
            self._resume_rng = None
            set_seed(self.conf["seed"] + self.dist.rank + 7919 * self.step)
        if self.is_main:
            # drop log records the resumed run will write again
            recs = read_loss_log(self.loss_log)
            keep = [
                r
                for r in recs
                if (r.get("split") == "train" and r["step"] <= self.step)
                or (r.get("split") == "dev" and r["step"] <= self.last_dev_step)
            ]
            tmp = self.loss_log.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r) + "\n" for r in keep), encoding="utf-8")
            tmp.replace(self.loss_log)
            logger.info(
                "resumed from %s: step %d, epoch %d, batch %d of the epoch",
                path,
                self.step,
                self.epoch,
                self.position,
            )
        return True

    # ------------------------------------------------------------------ main loop
    def fit(self) -> dict:
        """Train; returns a summary dict (step, epoch, best dev loss, bad steps, last dev)."""
        self._setup_logging()
        restore = self._install_signal_handlers()
        try:
            return self._fit()
        finally:
            for sig, handler in restore.items():
                signal.signal(sig, handler)
            if self._tb is not None:
                self._tb.close()
                self._tb = None
            self._teardown_logging()

    def _install_signal_handlers(self) -> dict:
        """SIGTERM (Slurm's time limit, ``kill``, torchrun) and SIGINT (Ctrl-C) end the
        step in progress, write a checkpoint and stop; a second SIGINT aborts at once.
        Returns the previous handlers (none outside the main thread, where Python
        cannot install them)."""
        self.stop_signal = None
        if threading.current_thread() is not threading.main_thread():
            return {}

        def handler(signum, frame):
            if self.stop_signal is not None and signum == signal.SIGINT:
                raise KeyboardInterrupt
            if self.stop_signal is None:
                self.stop_signal = signum
                logger.warning(
                    "%s received: stopping after this step with a checkpoint "
                    "(press Ctrl-C again to abort without one)",
                    signal.Signals(signum).name,
                )

        return {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}

    def _stop_requested(self) -> bool:
        """Whether any rank got a stop signal (collective under DDP: all ranks stop at
        the same step, or the others would wait forever in the next all-reduce)."""
        if self.dist.distributed:
            t = torch.tensor([self.stop_signal or 0], device=self.device)
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            agreed = int(t)  # one host sync per step
            if agreed:
                self.stop_signal = self.stop_signal or agreed
        return self.stop_signal is not None

    def _setup(self) -> None:
        c, d = self.conf, self.dist
        set_seed(c["seed"] + d.rank)
        self.unwrapped = self.model.to(self.device)
        self.optimizer = build_optimizer(self.unwrapped, c)
        self.scheduler = build_scheduler(self.optimizer, self.d_model, c["warmup_steps"])
        self.scaler = torch.amp.GradScaler(self.device.type) if c["precision"] == "fp16" else None
        budget = {"batch_frames": c["batch_frames"], "batch_size": c["batch_size"]}
        self.sampler = BucketBatchSampler(
            _lengths_of(self.train_set),
            **budget,
            shuffle=c["shuffle"],
            seed=c["seed"],
            num_replicas=d.world_size,
            rank=d.rank,
        )
        self.dev_sampler = None
        if self.dev_set is not None:
            self.dev_sampler = BucketBatchSampler(
                _lengths_of(self.dev_set),
                **budget,
                shuffle=False,
                seed=c["seed"],
                num_replicas=d.world_size,
                rank=d.rank,
            )
        if self.is_main:
            n_par = sum(p.numel() for p in self.unwrapped.parameters())
            logger.info(
                "model: %.2f M parameters; device %s; %d rank(s); precision %s; "
                "%d train / %s dev utterances",
                n_par / 1e6,
                self.device,
                d.world_size,
                c["precision"],
                len(self.train_set),
                len(self.dev_set) if self.dev_set is not None else "no",
            )
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
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                logger.info(
                    "tensorboard is not installed (pip install tensorboard): no TensorBoard "
                    "events; losses are in loss.jsonl and images/"
                )
            else:
                self._tb = SummaryWriter(str(self.exp_dir / "tensorboard"), purge_step=self.step)
        if self._resume_rng is not None:
            ckpt.set_rng_state(self._resume_rng)  # last: nothing above may draw after it

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

    def _fit(self) -> dict:
        self._setup()
        c = self.conf
        accum = c["accum_grad"]
        self.unwrapped.train()
        bar = tqdm(
            total=c["max_steps"] or None,
            initial=self.step,
            disable=not (self.is_main and c["progress_bar"]),
            dynamic_ncols=True,
            desc="train",
        )
        t_last, frames_since = time.perf_counter(), 0.0
        self._group = self._new_group()
        stop = self._done()
        while not stop:
            self.sampler.set_epoch(self.epoch, self.position)
            if self.position == 0 and self.is_main:
                ps = self.sampler.padding_stats()
                logger.info(
                    "epoch %d: %d batches per rank, padding waste %.1f%% (%d real / %d padded frames)",
                    self.epoch,
                    ps["batches_per_rank"],
                    100 * ps["padding_waste"],
                    ps["frames"],
                    ps["padded_frames"],
                )
            n_left = len(self.sampler)
            loader = self._make_loader(
                self.train_set, self.sampler, c["seed"] * 100003 + self.epoch * 1009 + self.position
            )
            for i, batch in enumerate(loader):
                self.position += 1
                last = i == n_left - 1
                self._group["n"] += 1
                sync = self._group["n"] == accum or last
                self._micro_step(batch, sync, accum)
                if not sync:
                    continue
                stepped = self._optimizer_step()
                g = self._group
                self._group = self._new_group()
                if not stepped:
                    continue
                self.step += 1
                frames_since += g["frames"]
                rec = {
                    "split": "train",
                    "step": self.step,
                    "epoch": self.epoch,
                    "loss": g["loss"] / g["n"],
                    "mle_loss": g["mle_loss"] / g["n"],
                    "dur_loss": g["dur_loss"] / g["n"],
                    "lr": self.scheduler.get_last_lr()[0],
                    "grad_norm": g["grad_norm"],
                    "frames": g["frames"],
                }
                self._log_record(rec)
                bar.update(1)
                if self.step % c["log_interval_steps"] == 0 or self.step == 1:
                    now = time.perf_counter()
                    fps = frames_since / max(now - t_last, 1e-9)
                    t_last, frames_since = now, 0.0
                    bar.set_postfix(loss=f"{rec['loss']:.3f}", fps=f"{fps:.0f}")
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
                        for k in ("loss", "mle_loss", "dur_loss", "lr", "grad_norm"):
                            self._tb.add_scalar(f"train/{k}", rec[k], self.step)
                        self._tb.add_scalar("train/frames_per_s", fps, self.step)
                if self._tb is not None and c["image_interval_steps"]:
                    if self.step % c["image_interval_steps"] == 0:
                        self._tb_images(g)
                if self.step % c["save_interval_steps"] == 0:
                    self.save()
                if c["eval_interval_steps"] and self.step % c["eval_interval_steps"] == 0:
                    self.evaluate()
                if self._done() or self._stop_requested():
                    stop = True
                    break
            else:
                # epoch complete
                self.epoch += 1
                self.position = 0
                self.evaluate()
                stop = self._done()
        bar.close()
        interrupted = self.stop_signal is not None and not self._done()
        if interrupted:
            # a scheduler's grace period is short: the checkpoint first, no dev pass
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

    @torch.no_grad()
    def evaluate(self) -> dict | None:
        """Dev pass: frame-weighted mean MLE loss, token-weighted mean duration loss.

        Saves ``best.pth`` when ``mle + dur`` improves. Collective under DDP.
        """
        self.last_dev_step = self.step
        if self.dev_set is None or self.dev_sampler is None:
            return None
        model = self.unwrapped
        model.eval()
        sums = torch.zeros(4, dtype=torch.float64)
        self.dev_sampler.set_epoch(0, 0)
        with self._rng_fork():  # the dev pass must not shift the training RNG streams
            for batch in self._make_loader(self.dev_set, self.dev_sampler, self.conf["seed"]):
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
        if self.dist.distributed:
            sums = sums.to(self.device)
            dist.all_reduce(sums)
            sums = sums.cpu()
        mle, dur = float(sums[0] / sums[1]), float(sums[2] / sums[3])
        res = {"split": "dev", "step": self.step, "epoch": self.epoch, "loss": mle + dur}
        res.update({"mle_loss": mle, "dur_loss": dur})
        self.last_dev = res
        self._log_record(res)
        if self._tb is not None:
            for k in ("loss", "mle_loss", "dur_loss"):
                self._tb.add_scalar(f"dev/{k}", res[k], self.step)
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
                ckpt.atomic_copy(path, self.ckpt_dir / "best.pth")
        return res

    # ------------------------------------------------------------------ images
    def _tb_images(self, g: dict) -> None:
        path, batch = g["path"], g["batch"]
        if path is None or batch is None:
            return
        tl, fl = int(batch["token_lengths"][0]), int(batch["feat_lengths"][0])
        path = path[0, :tl, :fl].float().cpu()
        mel = batch["feats"][0, :fl].T.float()
        mel = (mel - mel.min()) / (mel.max() - mel.min() + 1e-8)
        self._tb.add_image("train/alignment", path.flip(0), self.step, dataformats="HW")
        self._tb.add_image("train/mel", mel.flip(0), self.step, dataformats="HW")

    def _final_images(self) -> None:
        self.img_dir.mkdir(parents=True, exist_ok=True)
        try:
            plot_loss_curves(read_loss_log(self.loss_log), self.img_dir / "loss_curves.png")
        except Exception as e:  # noqa: BLE001 - plots must never lose a finished training
            logger.warning("could not plot loss curves: %s", e)
        if self.dev_set is None:
            return
        try:
            self._dev_sample_png()
        except Exception as e:  # noqa: BLE001
            logger.warning("could not plot the dev sample: %s", e)

    @torch.no_grad()
    def _dev_sample_png(self) -> None:
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
        path = out["path"][0, :tl].float().cpu().numpy()
        t = path.shape[1]
        plot_mel_alignment(
            item["feats"][:t].numpy(),
            path,
            self.img_dir / f"dev_{item['utt_id']}_step{self.step:08d}.png",
            gen_mel=gen,
            title=item["utt_id"],
        )
