"""Noam schedule, Adam settings, and the train: config validation."""

from __future__ import annotations

import pytest
import torch

from glowtts.train.config import TRAIN_DEFAULTS, resolve_train_config
from glowtts.train.schedule import build_optimizer, build_scheduler, noam_factor, peak_lr


def test_noam_peak_at_warmup_official_values():
    f = [noam_factor(s, 192, 4000) for s in (1, 2000, 3999, 4000, 4001, 16000)]
    assert f[3] == max(f)
    assert f[3] == pytest.approx(1 / (192 * 4000) ** 0.5)
    assert peak_lr(1.0, 192, 4000) == pytest.approx(1.141e-3, rel=1e-3)
    assert f[1] == pytest.approx(f[3] / 2)  # linear warm-up
    assert f[5] == pytest.approx(f[3] / 2)  # step^-0.5 decay: 4x the steps, half the rate


def test_lambdalr_follows_official_formula():
    p = torch.nn.Parameter(torch.zeros(3))
    opt = build_optimizer(torch.nn.ParameterList([p]), resolve_train_config({}))
    g = opt.param_groups[0]
    assert g["betas"] == (0.9, 0.98) and g["eps"] == 1e-9
    assert not g["fused"]  # fused Adam only for CUDA parameters
    sched = build_scheduler(opt, d_model=192, warmup_steps=10)
    lrs = []
    for _ in range(30):
        lrs.append(opt.param_groups[0]["lr"])
        p.grad = torch.ones(3)
        opt.step()
        sched.step()
    # optimizer step k (0-based) uses the official step_num = k + 1
    assert lrs == pytest.approx([noam_factor(k + 1, 192, 10) for k in range(30)])
    assert max(range(30), key=lambda k: lrs[k]) == 9
    # the scheduler state holds only numbers (loads with weights_only)
    assert all(v is None or not callable(v) for v in sched.state_dict()["lr_lambdas"])


def test_config_defaults_and_rejections():
    c = resolve_train_config(None)
    assert c == {**TRAIN_DEFAULTS, "betas": [0.9, 0.98]}
    assert c["grad_clip_value"] == 5.0 and c["warmup_steps"] == 4000
    with pytest.raises(ValueError, match="unknown key.*lr"):
        resolve_train_config({"lr": 1e-3})
    with pytest.raises(ValueError, match="precision"):
        resolve_train_config({"precision": "fp8"})
    with pytest.raises(ValueError, match="accum_grad"):
        resolve_train_config({"accum_grad": 0})
    with pytest.raises(ValueError, match="betas"):
        resolve_train_config({"betas": [0.9]})
    with pytest.raises(ValueError, match="shuffle"):
        resolve_train_config({"shuffle": "yes"})
    with pytest.raises(ValueError, match="never ends"):
        resolve_train_config({"max_steps": 0, "max_epochs": 0})
    # compile: YAML booleans are accepted as off / default mode
    assert resolve_train_config({"compile": False})["compile"] == "none"
    assert resolve_train_config({"compile": True})["compile"] == "default"
    with pytest.raises(ValueError, match="compile must be one of"):
        resolve_train_config({"compile": "fast"})
    with pytest.raises(ValueError, match="compile_backend"):
        resolve_train_config({"compile_backend": ""})
    with pytest.raises(ValueError, match="pad_multiple_frames"):
        resolve_train_config({"pad_multiple_frames": 0})


def test_recipe_train_section_validates():
    from pathlib import Path

    import yaml

    conf = Path(__file__).resolve().parents[2] / "egs/ljspeech/tts1/conf/train.yaml"
    if not conf.is_file():
        pytest.skip(f"{conf} not written yet")
    c = resolve_train_config(yaml.safe_load(conf.read_text())["train"])
    assert c["warmup_steps"] == 4000 and c["betas"] == [0.9, 0.98] and c["eps"] == 1e-9


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fused_adam_on_cuda_matches_foreach():
    conf = resolve_train_config({})
    torch.manual_seed(0)
    ps = [torch.nn.Parameter(torch.randn(40, 30, device="cuda")) for _ in range(3)]
    fused = build_optimizer(torch.nn.ParameterList(ps), conf)
    assert fused.param_groups[0]["fused"]
    qs = [torch.nn.Parameter(p.detach().clone()) for p in ps]
    plain = torch.optim.Adam(qs, lr=conf["learning_rate"], betas=(0.9, 0.98), eps=1e-9)
    for k in range(10):
        for p, q in zip(ps, qs):
            p.grad = q.grad = torch.randn_like(p) * (k + 1)
        fused.step()
        plain.step()
    for p, q in zip(ps, qs):
        torch.testing.assert_close(p, q, atol=1e-6, rtol=1e-5)
