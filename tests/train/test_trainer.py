"""Trainer in-process: experiment files, precisions, NaN guard, best/keep_last, config errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import tinytts
import torch
import yaml
from train_cli import train_argv

import glowtts.utils
from glowtts.bin.train import main
from glowtts.data.collate import collate_tts
from glowtts.data.dataset import TTSDataset
from glowtts.train import NonFiniteLossError, Trainer
from glowtts.train.checkpoint import list_step_checkpoints, load_checkpoint
from glowtts.train.plots import read_loss_log


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    tinytts.write_dump(root / "dump/train", 8, seed=1)
    tinytts.write_dump(root / "dump/dev", 3, seed=2, prefix="dev")
    tl = root / "token_list/char/tokens.txt"
    tl.parent.mkdir(parents=True)
    # a char token list of tinytts.N_VOCAB entries, and the front-end that wrote it
    tl.write_text("".join(f"{t}\n" for t in ["<blank>", "<unk>", "<space>", *"abcdefghi"]))
    (tl.parent / "frontend.yaml").write_text("token_type: char\ntoken_list: tokens.txt\n")
    np.save(root / "stats.npy", np.zeros((2, tinytts.N_MELS)))
    return root


def _args(data: Path, cfg: Path, exp: Path, *extra: str) -> list[str]:
    return train_argv(cfg, data, exp, *extra, token_list=data / "token_list/char/tokens.txt")


def test_cli_writes_experiment_and_trains(data, tmp_path):
    cfg = tinytts.write_config(tmp_path / "c.yaml", tinytts.base_train(max_steps=4, keep_last=1))
    exp = tmp_path / "exp"
    assert main(_args(data, cfg, exp, "--stats", str(data / "stats.npy"), "--seed", "7")) == 0
    conf = yaml.safe_load((exp / "config.yaml").read_text())
    assert conf["n_vocab"] == tinytts.N_VOCAB and conf["train"]["seed"] == 7
    assert conf["train"]["warmup_steps"] == 10 and conf["model"] == tinytts.TINY_MODEL
    ver = json.loads((exp / "version.json").read_text())
    assert ver["torch"] == torch.__version__ and "--config" in ver["command"]
    for f in ("tokens.txt", "frontend.yaml", "stats.npy", "train.log", "images/loss_curves.png"):
        assert (exp / f).is_file(), f
    assert list((exp / "images").glob("dev_*.png"))
    steps = [s for s, _ in list_step_checkpoints(exp / "checkpoints")]
    assert steps == [4]  # keep_last 1
    best = load_checkpoint(exp / "checkpoints/best.pth")
    assert best["best_dev_loss"] == min(
        r["loss"] for r in read_loss_log(exp / "loss.jsonl") if r["split"] == "dev"
    )
    train = [r for r in read_loss_log(exp / "loss.jsonl") if r["split"] == "train"]
    assert [r["step"] for r in train] == [1, 2, 3, 4]
    assert all(math.isfinite(r["loss"]) for r in train)
    # a finished run resumed with more steps continues from step 4
    assert main(_args(data, cfg, exp, "--max_steps", "5")) == 0
    assert "resumed from" in (exp / "train.log").read_text()
    assert [s for s, _ in list_step_checkpoints(exp / "checkpoints")] == [5]
    # --resume false starts over and moves the old checkpoints aside
    assert main(_args(data, cfg, exp, "--resume", "false", "--max_steps", "1")) == 0
    assert [s for s, _ in list_step_checkpoints(exp / "checkpoints")] == [1]
    (old,) = exp.glob("checkpoints.old_*")
    assert (old / "step_00000005.pth").is_file() and (old / "best.pth").is_file()
    assert [r["step"] for r in read_loss_log(exp / "loss.jsonl") if r["split"] == "train"] == [1]


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_low_precision_steps_finite(data, tmp_path, precision):
    cfg = tinytts.write_config(
        tmp_path / "c.yaml", tinytts.base_train(max_steps=2, precision=precision)
    )
    assert main(_args(data, cfg, tmp_path / "exp")) == 0
    train = [r for r in read_loss_log(tmp_path / "exp/loss.jsonl") if r["split"] == "train"]
    assert len(train) == 2 and all(math.isfinite(r["loss"]) for r in train)
    st = load_checkpoint(tmp_path / "exp/checkpoints/step_00000002.pth")
    assert ("scaler" in st) == (precision == "fp16")


@pytest.mark.parametrize("flags", [["amx_bf16", "avx512_bf16"], []])
def test_auto_precision_follows_the_cpu_and_says_so(
    data, tmp_path, monkeypatch, flags, autocast_dtypes
):
    """``precision: auto`` trains in bf16 on a CPU with native bf16, in fp32 elsewhere,
    and train.log names the choice and the reason."""
    monkeypatch.setattr(glowtts.utils, "cpu_bf16_flags", lambda: list(flags))
    seen = autocast_dtypes
    cfg = tinytts.write_config(
        tmp_path / "c.yaml", tinytts.base_train(max_steps=1, precision="auto")
    )
    assert main(_args(data, cfg, tmp_path / "exp")) == 0
    log = (tmp_path / "exp/train.log").read_text()
    if flags:
        assert "precision bf16 (auto: this CPU has native bf16: amx_bf16, avx512_bf16)" in log
        assert torch.bfloat16 in seen
    else:
        assert "precision fp32 (auto: this CPU has no native bf16" in log
        assert torch.bfloat16 not in seen
    conf = yaml.safe_load((tmp_path / "exp/config.yaml").read_text())
    assert conf["train"]["precision"] == "auto"  # the config keeps what was asked


def test_precision_option_overrides_the_yaml(data, tmp_path):
    cfg = tinytts.write_config(
        tmp_path / "c.yaml", tinytts.base_train(max_steps=1, precision="auto")
    )
    assert main(_args(data, cfg, tmp_path / "exp", "--precision", "fp32")) == 0
    assert "precision fp32;" in (tmp_path / "exp/train.log").read_text()
    conf = yaml.safe_load((tmp_path / "exp/config.yaml").read_text())
    assert conf["train"]["precision"] == "fp32"  # the experiment records what ran


def test_dev_passes_every_n_steps_instead_of_every_epoch(data, tmp_path, capsys):
    """8 utterances in batches of 4: a 2-step epoch. By default a dev pass ends every
    epoch; ``--eval_every_epoch false --eval_interval_steps 3`` gives one every 3 steps."""

    def dev_steps(exp: Path) -> list[int]:
        return [r["step"] for r in read_loss_log(exp / "loss.jsonl") if r["split"] == "dev"]

    cfg = tinytts.write_config(tmp_path / "c.yaml", tinytts.base_train(max_steps=6))
    assert main(_args(data, cfg, tmp_path / "a")) == 0
    assert dev_steps(tmp_path / "a") == [2, 4, 6]
    flags = ("--eval_every_epoch", "false", "--eval_interval_steps", "3")
    assert main(_args(data, cfg, tmp_path / "b", *flags)) == 0
    assert dev_steps(tmp_path / "b") == [3, 6]
    conf = yaml.safe_load((tmp_path / "b/config.yaml").read_text())["train"]
    assert conf["eval_every_epoch"] is False and conf["eval_interval_steps"] == 3
    assert main(_args(data, cfg, tmp_path / "c", "--eval_every_epoch", "false")) == 1
    assert "eval_interval_steps is 0: no dev pass" in capsys.readouterr().err


def test_resolve_precision(monkeypatch):
    monkeypatch.setattr(glowtts.utils, "cpu_bf16_flags", lambda: ["avx512_bf16"])
    assert glowtts.utils.resolve_precision("auto", torch.device("cpu")) == "bf16"
    assert glowtts.utils.resolve_precision("auto", "cuda") == "fp32"
    assert glowtts.utils.resolve_precision("fp16", "cpu") == "fp16"
    monkeypatch.setattr(glowtts.utils, "cpu_bf16_flags", lambda: [])
    assert glowtts.utils.resolve_precision("auto", "cpu") == "fp32"
    with pytest.raises(ValueError, match="precision must be one of"):
        glowtts.utils.resolve_precision("int8", "cpu")


def test_config_errors(data, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"model": tinytts.TINY_MODEL, "trian": {}}))
    assert main(_args(data, bad, tmp_path / "e1")) == 1
    assert "unknown top-level key(s) ['trian']" in capsys.readouterr().err
    cfg = tinytts.write_config(tmp_path / "c.yaml", {"max_step": 3})
    assert main(_args(data, cfg, tmp_path / "e2")) == 1
    assert "max_step" in capsys.readouterr().err


def test_nan_guard_skips_and_stops(data, tmp_path):
    ds = TTSDataset(data / "dump/train", tinytts.N_VOCAB)
    model = tinytts.StandIn(nan=True)
    before = {k: v.clone() for k, v in model.named_parameters()}
    tr = Trainer(model, ds, None, tinytts.base_train(max_bad_steps=2), tmp_path / "exp")
    with pytest.raises(NonFiniteLossError, match="3 steps had non-finite"):
        tr.fit()
    assert tr.step == 0 and tr.bad_steps == 3
    for k, v in model.named_parameters():
        assert torch.equal(v, before[k]), k  # no optimizer step was taken
    log = (tmp_path / "exp/train.log").read_text()
    assert log.count("step skipped") == 3 and "utt0" in log


def test_accum_grad_equals_big_batch(data, tmp_path):
    """accum_grad 2 x batch 2 == batch 4 (same utterances, equal lengths, dropout off)."""
    d = tmp_path / "eq"
    tinytts.write_dump(d, 8, seed=4, token_lengths=[5] * 8)
    ds = TTSDataset(d, tinytts.N_VOCAB)
    params = []
    for bs, acc in ((4, 1), (2, 2)):
        torch.manual_seed(0)
        model = tinytts.StandIn()
        model.drop.p = 0.0
        conf = tinytts.base_train(batch_size=bs, accum_grad=acc, shuffle=False, max_steps=2)
        conf.update(grad_clip_value=0.0, data_dependent_init=False)
        Trainer(model, ds, None, conf, tmp_path / f"exp{bs}").fit()
        params.append(torch.cat([p.detach().flatten() for p in model.parameters()]))
    torch.testing.assert_close(params[0], params[1], rtol=1e-5, atol=1e-6)


def test_compile_and_bucket_padding(data, tmp_path):
    """train.compile wraps encoder and decoder (backend "eager" here: the dynamo
    capture without code generation, which the CPU tests can afford) and changes
    neither the losses nor the checkpoint keys; bucketed padding is applied."""
    runs = {}
    for name, extra in (("eager", {}), ("compiled", {"compile": True, "compile_backend": "eager"})):
        conf = tinytts.base_train(
            max_steps=3, pad_multiple_tokens=4, pad_multiple_frames=7, **extra
        )
        cfg = tinytts.write_config(tmp_path / f"{name}.yaml", conf)
        exp = tmp_path / name
        assert main(_args(data, cfg, exp)) == 0
        runs[name] = exp
    losses = {
        k: [r["loss"] for r in read_loss_log(e / "loss.jsonl") if r["split"] == "train"]
        for k, e in runs.items()
    }
    assert len(losses["eager"]) == 3
    assert losses["compiled"] == pytest.approx(losses["eager"], rel=1e-5, abs=1e-6)
    assert "torch.compile (default, backend eager)" in (runs["compiled"] / "train.log").read_text()
    st = {k: load_checkpoint(e / "checkpoints/step_00000003.pth")["model"] for k, e in runs.items()}
    assert list(st["compiled"]) == list(st["eager"])  # loads with compile on or off
    conf = yaml.safe_load((runs["compiled"] / "config.yaml").read_text())["train"]
    assert conf["compile"] == "default"


def test_collate_pads_to_multiples(data):
    ds = TTSDataset(data / "dump/train", tinytts.N_VOCAB)
    items = [ds[i] for i in range(3)]
    plain = collate_tts(items)
    b = collate_tts(items, pad_multiple_tokens=4, pad_multiple_frames=14)
    assert b["tokens"].shape[1] % 4 == 0 and b["feats"].shape[1] % 14 == 0
    assert b["tokens"].shape[1] - plain["tokens"].shape[1] < 4
    assert torch.equal(b["token_lengths"], plain["token_lengths"])
    n = plain["feats"].shape[1]
    assert torch.equal(b["feats"][:, :n], plain["feats"]) and not b["feats"][:, n:].any()
