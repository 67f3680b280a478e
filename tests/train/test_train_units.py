"""The trainer's reusable pieces alone: logs, loss log, stop signals, resume, checkpoints."""

from __future__ import annotations

import json
import logging
import os
import signal

import torch

from glowtts.train import checkpoint as ckpt
from glowtts.train.distributed import DistInfo
from glowtts.train.logs import LossLog, training_logging
from glowtts.train.resume import open_run, resumed_rng
from glowtts.train.signals import StopRequest


def test_loss_log_truncate_keeps_what_a_resumed_run_will_not_rewrite(tmp_path):
    log = LossLog(tmp_path / "loss.jsonl")
    for step in (1, 2, 3, 4):
        log.append({"split": "train", "step": step})
    log.append({"split": "dev", "step": 2})
    log.append({"split": "dev", "step": 4})
    with open(log.path, "a", encoding="utf-8") as f:
        f.write('{"split": "train", "st')  # a writer killed mid-line
    log.truncate(train_step=3, dev_step=2)
    assert [(r["split"], r["step"]) for r in log.records()] == [
        ("train", 1),
        ("train", 2),
        ("train", 3),
        ("dev", 2),
    ]
    assert all(json.loads(line) for line in log.path.read_text().splitlines())


def test_loss_log_disabled_writes_nothing(tmp_path):
    log = LossLog(tmp_path / "loss.jsonl", enabled=False)
    log.append({"split": "train", "step": 1})
    log.clear()
    assert not log.path.exists()


def test_training_logging_writes_info_and_restores_the_logger(tmp_path):
    root = logging.getLogger("glowtts")
    before = (root.level, root.propagate, list(root.handlers))
    with training_logging(tmp_path / "exp" / "train.log", stderr=False):
        logging.getLogger("glowtts.train").info("hello %d", 7)
        assert root.propagate is False
    assert (root.level, root.propagate, list(root.handlers)) == before
    assert "hello 7" in (tmp_path / "exp" / "train.log").read_text()


def test_training_logging_without_a_file_passes_only_warnings(tmp_path):
    with training_logging(None) as log:
        assert log.getEffectiveLevel() == logging.WARNING and not log.handlers


def test_stop_request_catches_sigterm_and_restores_the_handler():
    before = signal.getsignal(signal.SIGTERM)
    with StopRequest() as stop:
        assert stop.signum is None
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.agreed(DistInfo())
        assert stop.signum == signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


def test_open_run_resumes_the_newest_valid_checkpoint(tmp_path):
    d = tmp_path / "checkpoints"
    for step in (2, 4):
        ckpt.save_step_checkpoint({"model": {}, "step": step}, d, step, keep_last=5)
    (d / ckpt.step_name(6)).write_bytes(b"torn")  # unreadable: skipped
    found = open_run(d, LossLog(tmp_path / "loss.jsonl"), resume=True, is_main=True)
    assert found is not None and found[1]["step"] == 4


def test_open_run_without_resume_moves_checkpoints_and_the_log_aside(tmp_path):
    d = tmp_path / "checkpoints"
    ckpt.save_step_checkpoint({"model": {}, "step": 9}, d, 9, keep_last=5)
    log = LossLog(tmp_path / "loss.jsonl")
    log.append({"split": "train", "step": 9})
    (tmp_path / "config.yaml").write_text("model: {}\n")
    assert open_run(d, log, resume=False, is_main=True) is None
    assert not d.exists() and not log.path.exists()
    (aside,) = tmp_path.glob("checkpoints.old_*")
    assert (aside / ckpt.step_name(9)).is_file()
    assert LossLog(aside / "loss.jsonl").records() == [{"split": "train", "step": 9}]
    assert (aside / "config.yaml").read_text() == "model: {}\n"
    # a log without checkpoints (killed before the first one) is kept too
    log.append({"split": "train", "step": 1})
    assert open_run(d, log, resume=False, is_main=True) is None
    assert len(list(tmp_path.glob("checkpoints.old_*"))) == 2 and not log.path.exists()


def test_save_prunes_and_mark_best_copies(tmp_path):
    d = tmp_path / "c"
    for step in (1, 2, 3):
        path, removed = ckpt.save_step_checkpoint({"model": {}, "step": step}, d, step, 2)
    assert [p.name for p in removed] == [ckpt.step_name(1)]
    best = ckpt.mark_best(path, d)
    assert torch.load(best, weights_only=True)["step"] == 3


def test_resumed_rng_only_for_the_same_world_size():
    st = {"rng": [{"r": 0}, {"r": 1}]}
    assert resumed_rng(st, DistInfo(rank=1, world_size=2)) == {"r": 1}
    assert resumed_rng(st, DistInfo(rank=0, world_size=1)) is None
