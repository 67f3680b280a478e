"""load_experiment (the one loader of exp/<tag>) and pad_tokens (the one token padder)."""

from __future__ import annotations

import shutil

import pytest
import torch
import yaml
from conftest import make_exp

from glowtts.checkpoints import CheckpointError
from glowtts.data.collate import pad_tokens
from glowtts.nets.glow_tts import MODEL_DEFAULTS
from glowtts.synthesis.loading import load_experiment
from glowtts.synthesis.synthesizer import Synthesizer


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


def _corrupt(path):
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])  # truncated, as by a full disk or a killed copy


def test_unreadable_best_falls_back_to_the_newest_readable_step(tmp_path, caplog):
    exp = make_exp(tmp_path / "e")
    ckpts = exp / "checkpoints"
    for step in (100, 200):
        shutil.copy(ckpts / "step_00000000.pth", ckpts / f"step_{step:08d}.pth")
    shutil.copy(ckpts / "step_00000000.pth", ckpts / "best.pth")
    _corrupt(ckpts / "best.pth")
    (ckpts / "step_00000200.pth").write_bytes(b"garbage")
    with caplog.at_level("WARNING"):
        loaded = load_experiment(exp)
    assert loaded.checkpoint == ckpts / "step_00000100.pth"
    assert str(ckpts / "best.pth") in caplog.text and "step_00000200.pth" in caplog.text
    # asked for by name: an error naming it, no fallback
    with pytest.raises(CheckpointError, match=r"best\.pth: unreadable checkpoint"):
        load_experiment(exp, ckpts / "best.pth")
    # nothing readable: an error naming the files and the ways out
    for p in ckpts.glob("step_*.pth"):
        _corrupt(p)
    with pytest.raises(CheckpointError, match=r"no readable checkpoint .*best\.pth.*--checkpoint"):
        load_experiment(exp)


def test_a_pickled_object_is_refused_not_run(tmp_path):
    """weights_only: a checkpoint that needs unpickling of arbitrary classes is unreadable."""
    exp = make_exp(tmp_path / "e")
    best = exp / "checkpoints" / "best.pth"
    torch.save({"model": torch.nn.Linear(2, 2), "step": 5}, best)
    with pytest.raises(CheckpointError, match="not a weights-only torch file"):
        load_experiment(exp, best)
    assert load_experiment(exp).checkpoint.name == "step_00000000.pth"


def test_entry_points_name_an_unreadable_checkpoint_and_fall_back(tmp_path):
    from glowtts.bin import export

    exp = make_exp(tmp_path / "e")
    best = exp / "checkpoints" / "best.pth"
    shutil.copy(exp / "checkpoints" / "step_00000000.pth", best)
    _corrupt(best)
    out = tmp_path / "m.pt"
    export.main(["--exp", str(exp), "--format", "torchscript", "--out", str(out)])
    assert out.is_file()
    with pytest.raises(SystemExit, match=r"glowtts-export: .*best\.pth: unreadable"):
        export.main(["--exp", str(exp), "--checkpoint", str(best), "--out", str(out)])
    syn = Synthesizer.from_exp(exp)
    assert syn.model is not None


def _with_meta(exp, **meta):
    """Store ``meta`` in the experiment's checkpoint, as glowtts-train does."""
    path = exp / "checkpoints" / "step_00000000.pth"
    state = torch.load(path, weights_only=True)
    state["meta"] = meta
    torch.save(state, path)


def test_a_checkpoint_from_another_config_is_refused(tmp_path):
    exp = make_exp(tmp_path / "e")
    config = yaml.safe_load((exp / "config.yaml").read_text())
    same = {
        "model_conf": config["model"],
        "n_vocab": config["n_vocab"],
        "text": config["text"],
        "feats": config["feats"],
    }
    _with_meta(exp, **same)
    assert load_experiment(exp).step == 0
    # spelling out a default is no change; a checkpoint without a key is not compared
    _with_meta(exp, **{**same, "text": {**config["text"], "cleaners": ["english"]}})
    load_experiment(exp)
    _with_meta(exp, model_conf=config["model"])
    load_experiment(exp)
    # trained with blanks, decoded without: the shapes match, the output would be wrong
    _with_meta(exp, **{**same, "text": {**config["text"], "add_blank": True}})
    with pytest.raises(ValueError, match=r"text\.add_blank: True -> False.*config\.yaml"):
        load_experiment(exp)
    _with_meta(exp, **{**same, "feats": {**config["feats"], "fmax": 3000}})
    with pytest.raises(ValueError, match=r"feats\.fmax: 3000\.0 -> 4000\.0"):
        load_experiment(exp, trainable=True)
    model = dict(config["model"])
    model["mean_only"] = not model.get("mean_only", MODEL_DEFAULTS["mean_only"])
    _with_meta(exp, **{**same, "model_conf": model, "n_vocab": config["n_vocab"] + 1})
    with pytest.raises(ValueError, match=r"model\.mean_only.*n_vocab"):
        load_experiment(exp)
