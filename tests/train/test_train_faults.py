"""Faults found by probing the trainer (issue 20): nothing hangs, a failed or refused
resume leaves the experiment as it was, and the loss log always matches the checkpoint."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import tinytts
import yaml
from train_cli import train_cmd

from glowtts.bin.train import main
from glowtts.nets.glow_tts import MODEL_DEFAULTS
from glowtts.train.checkpoint import list_step_checkpoints, load_checkpoint
from glowtts.train.logs import LossLog, read_loss_log

REPO = Path(__file__).resolve().parents[2]
# a char token list of tinytts.N_VOCAB entries
CHAR_TOKENS = ["<blank>", "<unk>", "<space>", *"abcdefghi"]


def _corpus(root: Path, n_train: int = 12) -> None:
    tinytts.write_dump(root / "dump/train", n_train, seed=1)
    tinytts.write_dump(root / "dump/dev", 3, seed=2, prefix="dev")
    tinytts.write_token_list(root / "tokens.txt")


def _cmd(root: Path, exp: Path, *extra: str, config: str = "train.yaml") -> list[str]:
    return train_cmd(root / config, root, exp, *extra)


def _run(cmd: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    try:
        return subprocess.run(
            cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as e:
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
        pytest.fail(f"glowtts-train did not exit within {timeout} s (hang); stderr:\n{err[-3000:]}")


def _poison(dump: Path, utt: str) -> None:
    """Rewrite ``dump/feats.ark`` with one NaN in ``utt``'s features."""
    feats = {k: np.array(v) for k, v in kaldiio.load_scp(str(dump / "feats.scp")).items()}
    feats[utt][2, 3] = np.nan
    with kaldiio.WriteHelper(f"ark,scp:{dump / 'feats.ark'},{dump / 'feats.scp'}") as w:
        for k, v in feats.items():
            w[k] = v


@pytest.mark.parametrize("num_workers", [1, 2])
def test_error_in_a_dataloader_worker_exits_nonzero(tmp_path, num_workers):
    """NaN features in an utterance outside the first batch: the worker's error is
    reported and the process exits with status 1 instead of waiting for its workers."""
    _corpus(tmp_path)
    _poison(tmp_path / "dump/train", "utt0011")  # the last batch (no shuffle)
    train = tinytts.base_train(batch_size=2, num_workers=num_workers, shuffle=False, max_steps=20)
    tinytts.write_config(tmp_path / "train.yaml", train)
    r = _run(_cmd(tmp_path, tmp_path / "exp"))
    assert r.returncode == 1, r.stderr[-3000:]
    assert "utt0011 has NaN or Inf features" in r.stderr


@pytest.fixture()
def tiny_exp(tmp_path):
    """A corpus with a stage-2 front-end and an experiment trained for 2 steps."""
    _corpus(tmp_path)
    (tmp_path / "tokens.txt").write_text("\n".join(CHAR_TOKENS) + "\n")
    (tmp_path / "frontend.yaml").write_text("token_type: char\ntoken_list: tokens.txt\n")
    train = tinytts.base_train(max_steps=2)
    tinytts.write_config(tmp_path / "train.yaml", train)
    assert main(_args(tmp_path, tmp_path / "exp")) == 0
    return tmp_path


def _args(root: Path, exp: Path, *extra: str, config: str = "train.yaml") -> list[str]:
    return _cmd(root, exp, *extra, config=config)[3:]


def _snapshot(exp: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(exp)): p.read_bytes()
        for p in sorted(exp.rglob("*"))
        if p.is_file() and p.name != "train.log"
    }


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"model": tinytts.tiny_model(hidden_channels=32)}, "model.hidden_channels: 16 -> 32"),
        ({"model": tinytts.tiny_model(n_blocks_dec=3)}, "model.n_blocks_dec: 2 -> 3"),
        ({"feats": {"hop_length": 200}}, "feats.hop_length: 256 -> 200"),
    ],
)
def test_resume_with_a_changed_config_is_refused_before_anything_is_written(
    tiny_exp, capsys, change, named
):
    exp = tiny_exp / "exp"
    before = _snapshot(exp)
    conf = yaml.safe_load((tiny_exp / "train.yaml").read_text())
    (tiny_exp / "changed.yaml").write_text(yaml.safe_dump({**conf, **change}))
    assert main(_args(tiny_exp, exp, "--max_steps", "4", config="changed.yaml")) == 1
    err = capsys.readouterr().err
    assert named in err
    assert (
        "a new --exp (recipes: another --tag)" in err and f"--init_from {exp}" in err
    )  # the ways forward
    assert _snapshot(exp) == before  # config.yaml, version.json, checkpoints, loss log


def test_resume_with_another_token_list_is_refused(tiny_exp, capsys):
    exp = tiny_exp / "exp"
    before = _snapshot(exp)
    tokens = tiny_exp / "tokens.txt"
    tokens.write_text(tokens.read_text().replace("e\n", "z\n"))
    assert main(_args(tiny_exp, exp, "--max_steps", "4")) == 1
    err = capsys.readouterr().err
    assert "token list" in err and "missing ['e']" in err and "new ['z']" in err
    assert _snapshot(exp) == before


def test_resume_with_the_same_config_spelled_out_continues(tiny_exp):
    """Writing a default explicitly is no change."""
    exp = tiny_exp / "exp"
    conf = yaml.safe_load((tiny_exp / "train.yaml").read_text())
    conf["model"]["p_dropout"] = MODEL_DEFAULTS["p_dropout"]
    conf["text"] = {"token_type": "char"}
    (tiny_exp / "same.yaml").write_text(yaml.safe_dump(conf))
    assert main(_args(tiny_exp, exp, "--max_steps", "3", config="same.yaml")) == 0
    assert "resumed from" in (exp / "train.log").read_text()


def test_a_frontend_describing_another_token_list_is_refused(tiny_exp, capsys):
    """A frontend.yaml beside --token_list that names another list would leave the
    experiment dir with a tokens.txt the model was not trained on."""
    (tiny_exp / "frontend.yaml").write_text("token_type: char\n")  # the built-in list
    exp = tiny_exp / "exp2"
    assert main(_args(tiny_exp, exp)) == 1
    assert "describes another token list than" in capsys.readouterr().err
    assert not (exp / "config.yaml").exists()


def _replace_with_junk(path: Path) -> None:
    """A torn file under the same name; a hard link to the old one (best.pth) keeps it."""
    path.unlink()
    path.write_bytes(b"torn")


def _train_steps(exp: Path) -> list[int]:
    return [r["step"] for r in read_loss_log(exp / "loss.jsonl") if r["split"] == "train"]


def test_unreadable_step_checkpoints_fall_back_to_a_valid_best(tiny_exp, caplog):
    exp = tiny_exp / "exp"
    assert main(_args(tiny_exp, exp, "--max_steps", "6")) == 0  # checkpoints 2, 4, 6
    best_step = load_checkpoint(exp / "checkpoints/best.pth")["step"]
    torn = [p for _, p in list_step_checkpoints(exp / "checkpoints")]
    for p in torn:
        _replace_with_junk(p)
    assert main(_args(tiny_exp, exp, "--max_steps", "8")) == 0
    log = (exp / "train.log").read_text()
    assert f"from step {best_step} on" in log and "resuming from best.pth" in log
    assert f"resumed from {exp / 'checkpoints/best.pth'}: step {best_step}" in log
    for p in torn:  # kept for inspection, out of the way of the new ones
        assert p.with_name(p.name + ".unreadable").read_bytes() == b"torn"
    steps = [s for s, _ in list_step_checkpoints(exp / "checkpoints")]
    assert steps and steps[0] == 8 and all(s > best_step for s in steps)
    for _, p in list_step_checkpoints(exp / "checkpoints"):
        load_checkpoint(p)
    assert _train_steps(exp) == list(range(1, 9))  # no step twice


def test_every_checkpoint_unreadable_is_refused_without_touching_anything(tiny_exp, capsys):
    exp = tiny_exp / "exp"
    for p in (exp / "checkpoints").iterdir():
        _replace_with_junk(p)
    before = _snapshot(exp)
    assert main(_args(tiny_exp, exp, "--max_steps", "4")) == 1
    err = capsys.readouterr().err
    assert "every checkpoint in" in err and "step_00000002.pth" in err and "best.pth" in err
    assert "--resume false" in err
    assert _snapshot(exp) == before


def test_a_loss_log_without_a_checkpoint_starts_empty(tmp_path):
    """Killed before its first checkpoint, a run restarts at step 1: the records it
    logged are not kept beside the new ones."""
    _corpus(tmp_path)
    tinytts.write_config(tmp_path / "train.yaml", tinytts.base_train(max_steps=4))
    exp = tmp_path / "exp"
    log = LossLog(exp / "loss.jsonl")
    exp.mkdir()
    for step in (1, 2, 3):
        log.append({"split": "train", "step": step, "loss": 1.0})
    assert main(_args(tmp_path, exp)) == 0
    assert _train_steps(exp) == [1, 2, 3, 4]


def test_resume_false_keeps_the_previous_log_and_checkpoints(tiny_exp):
    exp = tiny_exp / "exp"
    old_log = (exp / "loss.jsonl").read_bytes()
    assert main(_args(tiny_exp, exp, "--resume", "false", "--max_steps", "1")) == 0
    (aside,) = exp.glob("checkpoints.old_*")
    assert (aside / "loss.jsonl").read_bytes() == old_log
    assert (aside / "step_00000002.pth").is_file() and (aside / "config.yaml").is_file()
    assert "kept in" in (exp / "train.log").read_text()
    assert _train_steps(exp) == [1]
