"""Stage 4: MAS duration extraction and the separate duration-predictor stage.

A tiny experiment dir is built in a temp dir: random features (~3 frames per token)
written with kaldiio, token ids, a config.yaml and a checkpoint of a randomly
initialised model that went through data-dependent init.
"""

from __future__ import annotations

from pathlib import Path

import kaldiio
import numpy as np
import pytest
import tinytts
import torch
import yaml

from glowtts.bin import decode as decode_bin
from glowtts.bin import extract_durations as extract_bin
from glowtts.bin import train_duration as train_bin
from glowtts.data.collate import collate_tts
from glowtts.data.datadir import split_scp
from glowtts.data.dataset import TTSDataset
from glowtts.durations.extract import read_durations
from glowtts.durations.predictor import (
    evaluate_duration_loss,
    load_duration_items,
    resolve_duration_config,
)
from glowtts.nets import build_model
from glowtts.synthesis.loading import load_experiment
from glowtts.text import strip_blank_durations

N_MELS = 8
N_VOCAB = 10
TINY_MODEL = tinytts.tiny_model(n_mels=N_MELS)


def _train_duration(exp: Path, conf: Path, dump: Path, *extra: str) -> None:
    """glowtts-train-duration on CPU with ``conf`` over the train set's stage-4 durations."""
    d = exp / "durations"
    train_bin.main(
        ["--exp_dir", str(exp), "--config", str(conf), "--device", "cpu",
         "--train_dir", str(dump / "train"), "--train_durations", str(d / "train" / "durations"),
         *extra]
    )  # fmt: skip


def _write_set(d: Path, n_utts: int, seed: int, prefix: str, n_speakers: int = 0) -> None:
    """Token ids 1..N_VOCAB-1 (no blanks), float32 feats of ~3 frames per token (odd counts
    included, so the squeeze trimming is exercised)."""
    d.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    feats, tokens, frames, u2s = {}, {}, {}, {}
    for i in range(n_utts):
        utt = f"{prefix}{i:03d}"
        n_tok = int(rng.integers(3, 9))
        ids = rng.integers(1, N_VOCAB, n_tok)
        # with blanks the model reads 2n+1 tokens: give it enough frames for both settings
        n_frm = 3 * (2 * n_tok + 1) + int(rng.integers(0, 4))
        # a per-token mean so the alignment has some structure
        means = np.repeat(ids, n_frm // n_tok + 1)[:n_frm, None] * 0.3 - 4.0
        feats[utt] = (means + 0.3 * rng.standard_normal((n_frm, N_MELS))).astype(np.float32)
        tokens[utt] = ids
        frames[utt] = n_frm
        u2s[utt] = f"spk{i % max(n_speakers, 1)}"
    with kaldiio.WriteHelper(f"ark,scp:{d / 'feats.ark'},{d / 'feats.scp'}") as w:
        for utt in sorted(feats):
            w(utt, feats[utt])
    (d / "token").write_text(
        "".join(f"{u} {' '.join(map(str, tokens[u]))}\n" for u in sorted(tokens))
    )
    (d / "utt2num_frames").write_text("".join(f"{u} {frames[u]}\n" for u in sorted(frames)))
    if n_speakers > 1:
        (d / "utt2spk").write_text("".join(f"{u} {u2s[u]}\n" for u in sorted(u2s)))


def make_exp(root: Path, *, add_blank: bool, n_speakers: int = 0) -> tuple[Path, Path]:
    """Returns ``(exp_dir, dump_root)`` with dump sets train (16 utts), dev (8) and eval (5)."""
    dump = root / "dump"
    _write_set(dump / "train", 16, 0, "tr", n_speakers)
    _write_set(dump / "dev", 8, 1, "dv", n_speakers)
    _write_set(dump / "eval", 5, 2, "ev", n_speakers)
    exp = root / "exp" / "tiny"
    (exp / "checkpoints").mkdir(parents=True)
    model_conf = dict(TINY_MODEL)
    spk_list = None
    if n_speakers > 1:
        model_conf.update(n_speakers=n_speakers, gin_channels=4)
        spk_list = [f"spk{i}" for i in range(n_speakers)]
        (exp / "spk_list.txt").write_text("".join(s + "\n" for s in spk_list))
    torch.manual_seed(0)
    model = build_model(model_conf, N_VOCAB)
    ds = TTSDataset(
        dump / "train",
        N_VOCAB,
        add_blank=add_blank,
        squeeze=2,
        utt2spk=dump / "train" / "utt2spk" if spk_list else None,
        spk_list=spk_list,
    )
    b = collate_tts([ds[i] for i in range(len(ds))])
    model.data_dependent_init(
        b["tokens"], b["token_lengths"], b["feats"], b["feat_lengths"], b["spk"]
    )
    config = {
        "feats": {"fs": 8000, "hop_length": 64, "n_mels": N_MELS},
        "text": {"token_type": "char", "add_blank": add_blank},
        "model": model_conf,
        "train": {},
        "decode": {"noise_scale": 0.5, "length_scale": 1.0, "batch_size": 4},
        "n_vocab": N_VOCAB,
        "n_speakers": n_speakers,
    }
    (exp / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save({"model": model.state_dict(), "step": 7}, exp / "checkpoints" / "step_00000007.pth")
    return exp, dump


def _extract(exp: Path, dump: Path, s: str, out: Path, *extra: str) -> Path:
    extract_bin.main(
        ["--exp_dir", str(exp), "--data_dir", str(dump / s), "--out_dir", str(out), *extra]
    )
    return out


@pytest.fixture(scope="module", params=[False, True], ids=["no_blank", "add_blank"])
def exp_setup(request, tmp_path_factory):
    root = tmp_path_factory.mktemp("blank" if request.param else "plain")
    exp, dump = make_exp(root, add_blank=request.param)
    dur = exp / "durations"
    for s in ("train", "dev"):
        _extract(exp, dump, s, dur / s, "--batch_size", "5", "--n_plots", "2")
    return request.param, exp, dump


def _model_tokens(dump: Path, s: str, add_blank: bool) -> dict[str, int]:
    n = {}
    for line in (dump / s / "token").read_text().splitlines():
        parts = line.split()
        n[parts[0]] = 2 * (len(parts) - 1) + 1 if add_blank else len(parts) - 1
    return n


def test_durations_sum_to_frames_and_match_forward(exp_setup):
    add_blank, exp, dump = exp_setup
    out = exp / "durations" / "train"
    durs = read_durations(out / "durations")
    frames = {
        u: int(n)
        for u, n in (
            ln.split() for ln in (dump / "train" / "utt2num_frames").read_text().splitlines()
        )
    }
    n_tok = _model_tokens(dump, "train", add_blank)
    assert sorted(durs) == sorted(frames)
    assert any(f % 2 for f in frames.values())  # the rounding is really exercised
    for u, d in durs.items():
        assert len(d) == n_tok[u]
        assert sum(d) == frames[u] // 2 * 2
        assert min(d) >= 0

    # the model's own MAS, one forward over the whole set (a different batching)
    model = load_experiment(exp, trainable=True).model
    ds = TTSDataset(dump / "train", N_VOCAB, add_blank=add_blank, squeeze=2)
    b = collate_tts([ds[i] for i in range(len(ds))])
    with torch.no_grad():
        ref = model(b["tokens"], b["token_lengths"], b["feats"], b["feat_lengths"])["durations"]
    for i, u in enumerate(b["utt_ids"]):
        assert durs[u] == ref[i, : int(b["token_lengths"][i])].tolist(), u

    per_tok = read_durations(out / "durations.per_token")
    n_plain = _model_tokens(dump, "train", False)
    for u, d in per_tok.items():
        assert len(d) == n_plain[u]
        assert sum(d) == sum(durs[u])
        if add_blank:
            assert d == strip_blank_durations(durs[u], "merge")
    info = yaml.safe_load((out / "info.yaml").read_text())
    assert info["add_blank"] is add_blank and info["squeeze"] == 2
    assert info["frame_shift_s"] == pytest.approx(64 / 8000)
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == ["tr000.png", "tr001.png"]


def test_sharded_extraction_equals_unsharded(exp_setup, tmp_path):
    _, exp, dump = exp_setup
    parts = [tmp_path / f"token.{n}" for n in range(1, 5)]
    split_scp(dump / "dev" / "token", parts)  # 8 utts in 4 parts
    parts.append(tmp_path / "token.5")  # an empty shard (more jobs than utterances)
    parts[-1].write_text("")
    merged = {"durations": [], "durations.per_token": []}
    for n, part in enumerate(parts, 1):
        out = _extract(
            exp, dump, "dev", tmp_path / str(n), "--utt_list", str(part), "--batch_size", "3"
        )
        for f in merged:
            merged[f] += (out / f).read_text().splitlines(keepends=True)
    ref = exp / "durations" / "dev"
    for f, lines in merged.items():
        assert "".join(sorted(lines)) == (ref / f).read_text()
    assert (tmp_path / "5" / "durations").read_text() == ""


def test_train_duration_lowers_dev_loss(exp_setup, tmp_path):
    add_blank, exp, dump = exp_setup
    conf = tmp_path / "dur.yaml"
    conf.write_text(
        yaml.safe_dump(
            {
                "duration": {
                    "max_steps": 40,
                    "batch_size": 8,
                    "learning_rate": 5e-3,
                    "eval_interval_steps": 10,
                    "log_interval_steps": 10,
                }
            }
        )
    )
    d = exp / "durations"
    _train_duration(exp, conf, dump, "--dev_dir", str(dump / "dev"), "--dev_durations",
                    str(d / "dev" / "durations"))  # fmt: skip
    best = torch.load(exp / "duration" / "dp_best.pth", weights_only=True)
    assert best["dev_loss_after"] < 0.8 * best["dev_loss_before"]
    assert best["step"] > 0
    log = (exp / "duration" / "train.log").read_text()
    assert "dev at step 0" in log and "before" in log

    # re-measure independently: original vs refined model on the dev durations
    items = load_duration_items(
        dump / "dev", d / "dev" / "durations", add_blank=add_blank, n_vocab=N_VOCAB
    )
    orig_exp = load_experiment(exp, trainable=True)
    orig, orig_state = orig_exp.model, orig_exp.state
    ref_exp = load_experiment(exp, exp / "checkpoints" / "refined_dp.pth", trainable=True)
    refined, ref_state = ref_exp.model, ref_exp.state
    before = evaluate_duration_loss(orig, items, torch.device("cpu"))
    after = evaluate_duration_loss(refined, items, torch.device("cpu"))
    assert before == pytest.approx(best["dev_loss_before"], rel=1e-5)
    assert after == pytest.approx(best["dev_loss_after"], rel=1e-5)
    assert after < before

    # only the duration predictor changed; the step of the source checkpoint is kept
    assert ref_state["step"] == 7
    changed = {
        k for k, v in ref_state["model"].items() if not torch.equal(v, orig_state["model"][k])
    }
    assert changed and all(k.startswith("encoder.proj_w.") for k in changed)
    assert set(ref_state["model"]) == set(orig_state["model"])

    # the refined checkpoint loads for inference and decodes, with and without teacher durations
    model = load_experiment(exp, exp / "checkpoints" / "refined_dp.pth").model
    toks = torch.tensor([[0, 3, 0, 4, 0]]) if add_blank else torch.tensor([[3, 4, 5]])
    out = model.inference(toks, torch.tensor([toks.shape[1]]), noise_scale=0.0)
    assert out["mel"].shape[-1] == N_MELS and torch.isfinite(out["mel"]).all()
    dec = tmp_path / "decode"
    decode_bin.main(
        [
            "--exp_dir",
            str(exp),
            "--token",
            str(dump / "dev" / "token"),
            "--out_dir",
            str(dec),
            "--checkpoint",
            str(exp / "checkpoints" / "refined_dp.pth"),
            "--verbose",
            "false",
            "--durations",
            str(d / "dev" / "durations"),
        ]  # fmt: skip
    )
    # teacher forcing with the extracted durations reproduces them exactly
    assert read_durations(dec / "durations") == read_durations(d / "dev" / "durations")


def test_scratch_init_and_no_dev(exp_setup, tmp_path):
    add_blank, exp, dump = exp_setup
    conf = tmp_path / "c.yaml"
    conf.write_text(yaml.safe_dump({"duration": {"init": "scratch", "max_steps": 0}}))
    _train_duration(exp, conf, dump, "--out_dir", str(tmp_path / "dp"), "--refined_checkpoint",
                    str(tmp_path / "r.pth"))  # fmt: skip
    best = torch.load(tmp_path / "dp" / "dp_best.pth", weights_only=True)
    assert best["step"] == 0 and best["dev_loss_before"] is None
    orig = load_experiment(exp, trainable=True).state
    # re-initialised, not the trained predictor
    w = "conv_1.weight"
    assert not torch.equal(best["proj_w"][w], orig["model"]["encoder.proj_w." + w])
    refined = torch.load(tmp_path / "r.pth", weights_only=True)
    assert torch.equal(refined["model"]["encoder.proj_w." + w], best["proj_w"][w])


def test_mismatched_blank_setting_is_rejected(exp_setup):
    add_blank, exp, dump = exp_setup
    with pytest.raises(ValueError, match="durations for"):
        load_duration_items(
            dump / "dev",
            exp / "durations" / "dev" / "durations",
            add_blank=not add_blank,
            n_vocab=N_VOCAB,
        )


def test_duration_config_defaults_and_unknown_keys():
    conf = resolve_duration_config(None)
    assert conf["max_steps"] == 2000 and conf["init"] == "model" and conf["batch_size"] == 32
    assert resolve_duration_config({"learning_rate": "2e-4"})["learning_rate"] == 2e-4
    with pytest.raises(ValueError, match="unknown key"):
        resolve_duration_config({"lr": 1e-3})
    with pytest.raises(ValueError, match="init"):
        resolve_duration_config({"init": "random"})


def test_multi_speaker_extraction(tmp_path):
    exp, dump = make_exp(tmp_path, add_blank=False, n_speakers=2)
    out = _extract(exp, dump, "eval", tmp_path / "out", "--n_plots", "0")
    durs = read_durations(out / "durations")
    frames = dict(
        (u, int(n))
        for u, n in (
            ln.split() for ln in (dump / "eval" / "utt2num_frames").read_text().splitlines()
        )
    )
    assert sorted(durs) == sorted(frames)
    assert all(sum(d) == frames[u] // 2 * 2 for u, d in durs.items())
    assert not (out / "plots").exists()
