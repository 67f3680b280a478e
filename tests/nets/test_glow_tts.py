"""The Glow-TTS model: size, learning, inference controls, padding, bad input."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import tinytts
import torch
import yaml

from glowtts.nets import build_model, log_likelihood_matrix

REPO = Path(__file__).resolve().parents[2]
TINY = tinytts.tiny_model(n_layers_enc=2)


def _batch(b=3, t_text=(7, 5, 3), frames_per_token=3, n_mels=8, n_vocab=11, seed=0):
    g = torch.Generator().manual_seed(seed)
    t_text = torch.tensor(t_text[:b])
    tokens = torch.randint(1, n_vocab, (b, int(t_text.max())), generator=g)
    tokens = tokens * (torch.arange(tokens.shape[1]) < t_text.unsqueeze(1))
    t_mel = t_text * frames_per_token + 1
    feats = torch.randn(b, int(t_mel.max()), n_mels, generator=g)
    feats = feats * (torch.arange(feats.shape[1]) < t_mel.unsqueeze(1)).unsqueeze(-1)
    return tokens, t_text, feats, t_mel


def test_official_config_size():
    conf = yaml.safe_load((REPO / "egs/ljspeech/tts1/conf/train.yaml").read_text())
    model = build_model(conf["model"], n_vocab=148)
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - 28.62e6) / 28.62e6 < 0.01, n
    dec = sum(p.numel() for p in model.decoder.parameters())
    assert 0.72 < dec / n < 0.78  # "75 % in the decoder"


def test_unknown_model_key_is_rejected():
    with pytest.raises(ValueError, match="unknown key"):
        build_model({"hidden": 3}, n_vocab=10)


def test_log_likelihood_matrix_equals_direct_gaussian():
    torch.manual_seed(0)
    mu, ls, z = torch.randn(2, 5, 4), 0.3 * torch.randn(2, 5, 4), torch.randn(2, 5, 9)
    got = log_likelihood_matrix(mu, ls, z)
    dist = torch.distributions.Normal(mu.unsqueeze(-1), torch.exp(ls).unsqueeze(-1))
    want = dist.log_prob(z.unsqueeze(2)).sum(1)  # (B, T_text, T_mel)
    assert torch.allclose(got, want, atol=1e-4)


def test_training_drives_the_losses_down():
    torch.manual_seed(0)
    model = build_model({**TINY, "p_dropout": 0.0, "p_dropout_dec": 0.0}, n_vocab=11)
    batch = _batch()
    model.data_dependent_init(*batch)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        out = model(*batch)
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
        first = first or (out["mle_loss"].item(), out["dur_loss"].item())
    last = (out["mle_loss"].item(), out["dur_loss"].item())
    assert last[0] < first[0] - 0.5, (first, last)
    assert last[1] < 0.5 * first[1], (first, last)
    # MAS durations cover every valid frame exactly once
    t_mel = batch[3] // 2 * 2
    assert torch.equal(out["durations"].sum(1), t_mel)


def test_cpu_bf16_autocast_keeps_the_likelihood_terms_in_float32(monkeypatch):
    """Under ``torch.autocast("cpu", bfloat16)`` (train.precision bf16/auto on a CPU) the
    convolutions run in bf16, but the MAS scores, the log-determinant and both losses are
    float32 and close to the fp32 pass on the same weights and batch."""
    import glowtts.nets.glow_tts as gt

    torch.manual_seed(0)
    model = build_model({**TINY, "p_dropout": 0.0, "p_dropout_dec": 0.0}, n_vocab=11)
    batch = _batch()
    model.data_dependent_init(*batch)
    scores = []
    orig = gt.maximum_path
    monkeypatch.setattr(gt, "maximum_path", lambda lp, m: scores.append(lp.dtype) or orig(lp, m))
    ref = model(*batch)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(*batch)
    assert scores == [torch.float32, torch.float32]
    for k in ("loss", "mle_loss", "dur_loss", "logdet", "log_w"):
        assert out[k].dtype == torch.float32, k
    assert abs(out["mle_loss"].item() - ref["mle_loss"].item()) < 0.01 * abs(ref["mle_loss"].item())
    torch.testing.assert_close(out["logdet"], ref["logdet"], rtol=1e-3, atol=1e-3)
    assert torch.equal(out["durations"].sum(1), ref["durations"].sum(1))
    out["loss"].backward()  # gradients reach every parameter in float32
    assert all(p.grad is None or p.grad.dtype == torch.float32 for p in model.parameters())


def test_duration_loss_does_not_train_the_encoder():
    model = build_model(TINY, n_vocab=11)
    out = model(*_batch())
    out["dur_loss"].backward()
    assert model.encoder.emb.weight.grad is None or model.encoder.emb.weight.grad.abs().sum() == 0
    assert model.encoder.proj_w.proj.weight.grad.abs().sum() > 0


def test_inference_controls():
    torch.manual_seed(0)
    model = build_model(TINY, n_vocab=11).eval()
    tokens, t_text, feats, t_mel = _batch()
    model.data_dependent_init(tokens, t_text, feats, t_mel)
    with torch.no_grad():  # stand in for a trained predictor: 4.6 frames per token
        model.encoder.proj_w.proj.weight.mul_(0.01)
        model.encoder.proj_w.proj.bias.fill_(1.526)
    a = model.inference(tokens, t_text, noise_scale=0.0)
    b = model.inference(tokens, t_text, noise_scale=0.0)
    assert torch.equal(a["mel"], b["mel"])
    assert torch.equal(a["durations"].sum(1), a["mel_lengths"])
    assert a["mel"].shape == (3, int(a["mel_lengths"].max()), 8)
    slow = model.inference(tokens, t_text, noise_scale=0.0, length_scale=2.0)
    ratio = slow["mel_lengths"].float() / a["mel_lengths"].float()
    assert torch.all((ratio > 1.6) & (ratio < 2.4)), ratio
    teacher = torch.full_like(tokens, 2) * (torch.arange(tokens.shape[1]) < t_text.unsqueeze(1))
    forced = model.inference(tokens, t_text, durations=teacher, noise_scale=0.0)
    assert torch.equal(forced["mel_lengths"], ((2 * t_text + 1) // 2) * 2)
    assert torch.equal(forced["path"].sum(-1).long(), forced["durations"])


def test_padded_items_match_items_alone():
    torch.manual_seed(0)
    model = build_model(TINY, n_vocab=11).eval()
    tokens, t_text, feats, t_mel = _batch()
    model.data_dependent_init(tokens, t_text, feats, t_mel)
    batched = model(tokens, t_text, feats, t_mel)
    inf = model.inference(tokens, t_text, noise_scale=0.0)
    for i in range(3):
        n, f = int(t_text[i]), int(t_mel[i])
        alone = model(
            tokens[i : i + 1, :n], t_text[i : i + 1], feats[i : i + 1, :f], t_mel[i : i + 1]
        )
        assert torch.equal(alone["durations"][0], batched["durations"][i, :n])
        one = model.inference(tokens[i : i + 1, :n], t_text[i : i + 1], noise_scale=0.0)
        length = int(one["mel_lengths"][0])
        assert length == int(inf["mel_lengths"][i])
        assert torch.allclose(one["mel"][0], inf["mel"][i, :length], atol=1e-4)


def test_extra_padding_changes_no_loss_or_gradient():
    """Bucketed padding (train.pad_multiple_*) is exact: same losses, same gradients."""
    torch.manual_seed(0)
    model = build_model(TINY, n_vocab=11).eval()  # eval: no dropout masks to differ
    tokens, t_text, feats, t_mel = _batch()
    model.data_dependent_init(tokens, t_text, feats, t_mel)
    results = []
    for extra_tok, extra_frames in ((0, 0), (5, 12)):
        tok = torch.nn.functional.pad(tokens, (0, extra_tok))
        ft = torch.nn.functional.pad(feats, (0, 0, 0, extra_frames))
        model.zero_grad()
        out = model(tok, t_text, ft, t_mel)
        (out["loss"]).backward()
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        results.append((out, grads))
    (a, ga), (b, gb) = results
    for k in ("loss", "mle_loss", "dur_loss"):
        torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=1e-6)
    assert torch.equal(a["durations"], b["durations"][:, : a["durations"].shape[1]])
    assert len(ga) == len(gb) > 10
    for x, y in zip(ga, gb):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=1e-4)


def test_bad_input_is_a_clear_error():
    model = build_model(TINY, n_vocab=11)
    tokens, t_text, feats, t_mel = _batch()
    with pytest.raises(ValueError, match="empty token sequence"):
        model(tokens, torch.tensor([7, 0, 3]), feats, t_mel)
    with pytest.raises(ValueError, match="T_text=7 and T_mel=4"):
        model(tokens, t_text, feats, torch.tensor([5, 16, 10]))
    bad = feats.clone()
    bad[2, 1, 3] = float("nan")
    with pytest.raises(ValueError, match="batch item 2 has NaN or Inf"):
        model(tokens, t_text, bad, t_mel)
    with pytest.raises(ValueError, match="feats must be"):
        model(tokens, t_text, feats[..., :5], t_mel)


@pytest.mark.parametrize("n_speakers", [1, 3])
def test_channels_last_convs_keep_the_function(n_speakers):
    """``use_channels_last_convs`` (the CPU inference layout) changes no output: a padded
    batch of three, speakers or not, fp32 to rounding and under bf16 autocast alike."""
    torch.manual_seed(0)
    speakers = {"n_speakers": n_speakers, "gin_channels": 4} if n_speakers > 1 else {}
    model = build_model(tinytts.tiny_model(n_layers_enc=2, **speakers), n_vocab=11).eval()
    tokens, t_text, feats, t_mel = _batch()
    spk = torch.tensor([0, 2, 1]) if n_speakers > 1 else None
    model.data_dependent_init(tokens, t_text, feats, t_mel, spk=spk)
    for mod in model.modules():  # couplings start as the identity: make them act
        if isinstance(mod, torch.nn.Conv1d):
            torch.nn.init.normal_(mod.weight, std=0.1)
    model.prepare_for_inference()
    plain = copy.deepcopy(model)
    model.use_channels_last_convs()
    assert not any(isinstance(m, torch.nn.Conv1d) for m in model.modules())

    def run(m, **kw):
        g = torch.Generator().manual_seed(1)
        with torch.inference_mode():
            return m.inference(tokens, t_text, spk=spk, generator=g, **kw)

    a, b = run(plain), run(model)
    assert torch.equal(a["durations"], b["durations"])
    assert b["mel"].dtype == torch.float32
    assert torch.allclose(a["mel"], b["mel"], atol=1e-5), (a["mel"] - b["mel"]).abs().max()
    teacher = torch.full_like(tokens, 3) * (torch.arange(tokens.shape[1]) < t_text.unsqueeze(1))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        c, d = run(plain, durations=teacher), run(model, durations=teacher)
        d2 = run(model, durations=teacher)  # second call: the cached bf16 weights
    assert torch.allclose(c["mel"].float(), d["mel"].float(), atol=1e-2)
    assert torch.equal(d["mel"], d2["mel"])


def test_channels_last_convs_need_folded_weight_norm():
    model = build_model(TINY, n_vocab=11).eval()
    with pytest.raises(ValueError, match="prepare_for_inference"):
        model.use_channels_last_convs()
