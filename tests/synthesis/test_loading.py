"""load_experiment (the one loader of exp/<tag>) and pad_tokens (the one token padder)."""

from __future__ import annotations

import shutil

import pytest
import torch
from conftest import make_exp

from glowtts.data.collate import pad_tokens
from glowtts.synthesis.loading import load_experiment


def test_pad_tokens_pads_with_zeros_and_rounds_up():
    tokens, lengths = pad_tokens([[3, 4, 5], [7], torch.tensor([1, 2])], pad_multiple=4)
    assert tokens.dtype == torch.long and lengths.tolist() == [3, 1, 2]
    assert tokens.tolist() == [[3, 4, 5, 0], [7, 0, 0, 0], [1, 2, 0, 0]]
    with pytest.raises(ValueError, match="empty batch"):
        pad_tokens([])


def test_checkpoint_choice_best_then_newest_step(tmp_path):
    exp = make_exp(tmp_path / "e")
    ckpts = exp / "checkpoints"
    assert load_experiment(exp).checkpoint == ckpts / "step_00000000.pth"
    shutil.copy(ckpts / "step_00000000.pth", ckpts / "step_00000100.pth")
    assert load_experiment(exp).checkpoint == ckpts / "step_00000100.pth"
    shutil.copy(ckpts / "step_00000000.pth", ckpts / "best.pth")
    assert load_experiment(exp).checkpoint == ckpts / "best.pth"
    explicit = ckpts / "step_00000000.pth"
    assert load_experiment(exp, explicit).checkpoint == explicit
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_experiment(exp, ckpts / "nope.pth")


def test_trainable_keeps_the_trainer_parameter_names(tiny_exp):
    saved = torch.load(tiny_exp / "checkpoints" / "step_00000000.pth", weights_only=True)
    trainable = load_experiment(tiny_exp, trainable=True)
    assert not trainable.model.training
    assert set(trainable.model.state_dict()) == set(saved["model"])
    assert trainable.step == 0 and trainable.state["step"] == 0
    # the inference form folds weight norm: the parametrisation names are gone
    prepared = load_experiment(tiny_exp)
    assert set(prepared.model.state_dict()) != set(saved["model"])
    tokens, lengths = pad_tokens([[3, 4, 5, 6], [7, 8]])
    a = trainable.model.inference(tokens, lengths, noise_scale=0.0)["mel"]
    b = prepared.model.inference(tokens, lengths, noise_scale=0.0)["mel"]
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_frontend_speakers_and_clear_errors(tmp_path, tiny_exp):
    exp = load_experiment(tiny_exp)
    assert exp.frontend().vocab_size <= exp.model.n_vocab
    assert exp.speakers() is None and not exp.add_blank
    assert load_experiment(make_exp(tmp_path / "ms", n_speakers=3)).speakers() == [
        "spk0",
        "spk1",
        "spk2",
    ]
    with pytest.raises(FileNotFoundError, match="not a glowtts experiment dir"):
        load_experiment(tmp_path / "nowhere")
    raw = make_exp(tmp_path / "raw")
    ckpt = raw / "checkpoints" / "step_00000000.pth"
    torch.save(torch.load(ckpt, weights_only=True)["model"], ckpt)  # a bare state dict
    assert load_experiment(raw).checkpoint == ckpt  # fine for inference
    with pytest.raises(ValueError, match="not a glowtts training checkpoint"):
        load_experiment(raw, trainable=True)
