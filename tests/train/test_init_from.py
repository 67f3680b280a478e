"""Fine-tuning (``--init_from``): strict loading, exclusion, grown token and speaker
tables, ActNorm init only for fresh layers, the record in init.json, a falling loss."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tinytts
import torch
from train_cli import train_argv

from glowtts.bin.train import main
from glowtts.nets import build_model
from glowtts.nets.flows import ActNorm
from glowtts.train.checkpoint import atomic_save, load_checkpoint
from glowtts.train.init_from import SPEAKER_EMBEDDING, TOKEN_EMBEDDING, init_from, sha256_of
from glowtts.train.logs import read_loss_log

CHAR_TOKENS = ["<blank>", "<unk>", "<space>", *"abcdefghi"]  # tinytts.N_VOCAB entries


def _source_exp(root: Path, tokens=CHAR_TOKENS, speakers=None, **model) -> Path:
    """An experiment dir holding a (randomly initialised, ActNorm-initialised) model."""
    conf = tinytts.tiny_model(**model)
    torch.manual_seed(123)
    m = build_model(conf, len(tokens))
    for a in m.modules():
        if isinstance(a, ActNorm):
            a.initialized.fill_(True)
            a.bias.data.normal_()
    exp = root / "src"
    atomic_save({"model": m.state_dict(), "step": 7}, exp / "checkpoints/best.pth")
    (exp / "tokens.txt").write_text("".join(t + "\n" for t in tokens))
    if speakers:
        (exp / "spk_list.txt").write_text("".join(s + "\n" for s in speakers))
    return exp


def _fresh(n_vocab=tinytts.N_VOCAB, **model) -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model(tinytts.tiny_model(**model), n_vocab)


def _batch(model: torch.nn.Module):
    torch.manual_seed(1)
    tokens = torch.randint(1, tinytts.N_VOCAB, (2, 5))
    feats = torch.randn(2, 20, tinytts.N_MELS)
    return tokens, torch.tensor([5, 4]), feats, torch.tensor([20, 16])


def test_weights_load_exactly_and_actnorm_init_leaves_them(tmp_path):
    src = _source_exp(tmp_path)
    want = load_checkpoint(src / "checkpoints/best.pth")["model"]
    model = _fresh()
    rec = init_from(model, src, tokens=CHAR_TOKENS, speakers=None)
    got = model.state_dict()
    assert set(got) == set(want)
    for k in want:
        assert torch.equal(got[k], want[k]), k
    model.data_dependent_init(*_batch(model))  # the trainer's ActNorm init: nothing to do
    for k in want:
        assert torch.equal(model.state_dict()[k], want[k]), k
    assert rec["step"] == 7 and rec["excluded"] == [] and rec["tokens"] == []
    assert rec["sha256"] == sha256_of(src / "checkpoints/best.pth")


def test_excluded_parameters_are_freshly_initialised(tmp_path):
    src = _source_exp(tmp_path)
    want = load_checkpoint(src / "checkpoints/best.pth")["model"]
    fresh = _fresh().state_dict()
    model = _fresh()
    rec = init_from(model, src, tokens=CHAR_TOKENS, speakers=None, exclude=r"^decoder\.")
    got = model.state_dict()
    assert rec["excluded"] and all(k.startswith("decoder.") for k in rec["excluded"])
    for k in got:
        expected = fresh[k] if k.startswith("decoder.") else want[k]
        assert torch.equal(got[k], expected), k
    assert any(not torch.equal(fresh[k], want[k]) for k in rec["excluded"])
    # the excluded ActNorms (only they) get the data-dependent init
    enc_before = {k: v.clone() for k, v in got.items() if not k.startswith("decoder.")}
    model.data_dependent_init(*_batch(model))
    acts = [m for m in model.decoder.modules() if isinstance(m, ActNorm)]
    assert acts and all(bool(a.initialized) for a in acts)
    assert not torch.equal(acts[0].bias, torch.zeros_like(acts[0].bias))
    for k, v in enc_before.items():
        assert torch.equal(model.state_dict()[k], v), k


def test_a_superset_token_list_grows_the_embedding_keeping_the_old_rows(tmp_path, caplog):
    src = _source_exp(tmp_path)
    old = load_checkpoint(src / "checkpoints/best.pth")["model"][TOKEN_EMBEDDING]
    new_tokens = ["<blank>", "<unk>", "<space>", "Z", *"abcd", "x", *"efghi"]  # 2 inserted
    model = _fresh(n_vocab=len(new_tokens))
    fresh = model.state_dict()[TOKEN_EMBEDDING].clone()
    with caplog.at_level("INFO", logger="glowtts.train"):
        rec = init_from(model, src, tokens=new_tokens, speakers=None)
    emb = model.state_dict()[TOKEN_EMBEDDING]
    for i, t in enumerate(new_tokens):
        expected = old[CHAR_TOKENS.index(t)] if t in CHAR_TOKENS else fresh[i]
        assert torch.equal(emb[i], expected), t
    assert rec["tokens"] == ["Z", "x"]
    assert "new tokens (fresh rows): Z x" in caplog.text


def test_a_token_missing_from_the_new_list_is_an_error_naming_it(tmp_path):
    src = _source_exp(tmp_path)
    tokens = [t for t in CHAR_TOKENS if t != "e"] + ["z"]
    with pytest.raises(ValueError, match=r"lacks 1 of the source's entries \['e'\]"):
        init_from(_fresh(), src, tokens=tokens, speakers=None)


def test_new_speakers_grow_the_speaker_table(tmp_path):
    spk = {"n_speakers": 4, "gin_channels": 4}
    src = _source_exp(tmp_path, speakers=["anna", "bob"], **spk)
    old = load_checkpoint(src / "checkpoints/best.pth")["model"][SPEAKER_EMBEDDING]
    model = _fresh(**{**spk, "n_speakers": 5})
    fresh = model.state_dict()[SPEAKER_EMBEDDING].clone()
    rec = init_from(model, src, tokens=CHAR_TOKENS, speakers=["anna", "bob", "carl"])
    table = model.state_dict()[SPEAKER_EMBEDDING]
    assert table.shape[0] == 5 and rec["speakers"] == ["carl"]
    assert torch.equal(table[0], old[0]) and torch.equal(table[1], old[1])
    assert torch.equal(table[2], fresh[2])


def test_another_model_shape_is_an_error_naming_the_parameters(tmp_path):
    src = _source_exp(tmp_path)
    with pytest.raises(ValueError, match="hidden|in the source") as e:
        init_from(_fresh(filter_channels=64), src, tokens=CHAR_TOKENS, speakers=None)
    assert "--init_exclude" in str(e.value)


def _corpus(root: Path) -> None:
    tinytts.write_dump(root / "dump/train", 12, seed=1)
    tinytts.write_dump(root / "dump/dev", 3, seed=2, prefix="dev")
    (root / "tokens.txt").write_text("".join(t + "\n" for t in CHAR_TOKENS))


def _args(root: Path, exp: Path, config: Path, *extra: str) -> list[str]:
    return train_argv(config, root, exp, *extra)


def _train_losses(exp: Path) -> list[float]:
    return [r["loss"] for r in read_loss_log(exp / "loss.jsonl") if r["split"] == "train"]


def test_fine_tuning_from_a_trained_exp(tmp_path):
    """init.json names the source; the loss starts where the source left off, far below
    a fresh model's, falls on a new voice; a rerun resumes the fine-tuning run."""
    _corpus(tmp_path)
    base = tinytts.write_config(
        tmp_path / "base.yaml", tinytts.base_train(max_steps=20, save_interval_steps=10)
    )
    assert main(_args(tmp_path, tmp_path / "src", base)) == 0
    ft = tinytts.write_config(
        tmp_path / "ft.yaml", tinytts.base_train(max_steps=9, learning_rate=0.05, warmup_steps=3)
    )
    exp = tmp_path / "ft"
    assert main(_args(tmp_path, exp, ft, "--init_from", str(tmp_path / "src"))) == 0
    rec = json.loads((exp / "init.json").read_text())
    best = tmp_path / "src/checkpoints/best.pth"
    assert rec["checkpoint"] == str(best.resolve()) and rec["sha256"] == sha256_of(best)
    scratch = tmp_path / "scratch"
    assert main(_args(tmp_path, scratch, ft)) == 0
    assert max(_train_losses(exp)) < min(_train_losses(scratch))
    # a rerun resumes the fine-tuning run (its checkpoints); --init_from is not used again
    assert main(_args(tmp_path, exp, ft, "--init_from", str(tmp_path / "src"))) == 0
    assert f"--init_from {tmp_path / 'src'} is not used" in (exp / "train.log").read_text()
    # another voice (other features for the same tokens): the loss falls
    tinytts.write_dump(tmp_path / "dump/train", 12, seed=7)
    tinytts.write_dump(tmp_path / "dump/dev", 3, seed=8, prefix="dev")
    voice = tmp_path / "voice"
    assert main(_args(tmp_path, voice, ft, "--init_from", str(tmp_path / "src"))) == 0
    losses = _train_losses(voice)
    assert sum(losses[-3:]) / 3 < losses[0]
