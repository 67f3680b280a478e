"""The imported official model computes what the official model computes.

The official ``FlowGenerator`` is built from ``configs/base.json`` and
``base_blank.json`` with every weight randomised (ActNorm, the zero-initialised
coupling ends and prenet projection included, so identity inits cannot hide a wrong
mapping), converted with :mod:`glowtts.convert.official`, and both models run on the
same inputs in float32 on the CPU.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from official_anchor import anchor_dir, load_official

from glowtts.convert.official import (
    OFFICIAL_BLANK_ID,
    convert_state_dict,
    import_official,
    load_official_checkpoint,
    translate_config,
)
from glowtts.nets import build_model
from glowtts.nets.commons import sequence_mask
from glowtts.text.official import OFFICIAL_SYMBOLS

TOL = {"atol": 1e-5, "rtol": 1e-5}
CONFIGS = ("base.json", "base_blank.json")


@pytest.fixture(scope="module")
def official():
    return load_official("models")["models"]


def _official_conf(name: str) -> dict:
    return json.loads((anchor_dir() / "configs" / name).read_text())


def _randomise(model: torch.nn.Module, seed: int) -> None:
    """Every parameter moved off its init; the 1x1 conv matrices stay well conditioned
    with a positive determinant (the official log-determinant needs det > 0)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            noise = torch.randn(p.shape, generator=gen)
            if name.startswith("decoder.flows.") and name.endswith(".weight") and p.dim() == 2:
                q = torch.linalg.qr(p + 0.2 * noise)[0]
                if torch.det(q) < 0:
                    q[:, 0] = -q[:, 0]
                p.copy_(q)
            elif name.endswith((".logs", ".bias")) and ".flows." in name and p.dim() == 3:
                p.copy_(0.1 * noise)  # ActNorm
            else:
                p.add_(0.05 * noise)


def _pair(official, conf_name: str, seed: int = 0):
    conf = _official_conf(conf_name)
    add_blank = bool(conf["data"].get("add_blank", False))
    torch.manual_seed(seed)
    theirs = official.FlowGenerator(
        len(OFFICIAL_SYMBOLS) + add_blank, out_channels=conf["data"]["n_mel_channels"],
        **conf["model"],
    ).eval()  # fmt: skip
    _randomise(theirs, seed)
    sections = translate_config(conf)
    ours = build_model(sections["model"], len(OFFICIAL_SYMBOLS) + 2)
    ours.load_state_dict(convert_state_dict(theirs.state_dict(), ours, add_blank))
    return theirs, ours.eval(), add_blank


def _inputs(add_blank: bool, seed: int = 1):
    """Official ids ``(2, T)`` with lengths, and the same text as our ids."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.tensor([11, 7])
    x = torch.randint(1, len(OFFICIAL_SYMBOLS), (2, 11), generator=gen)
    if add_blank:
        full = torch.full((2, 23), OFFICIAL_BLANK_ID)
        full[:, 1::2] = x
        x = full
        lengths = 2 * lengths + 1
    x = x * sequence_mask(lengths, x.shape[1])
    ours = torch.where(x == OFFICIAL_BLANK_ID, torch.zeros_like(x), x + 2)
    return x, ours * sequence_mask(lengths, x.shape[1]), lengths


@pytest.mark.parametrize("conf_name", CONFIGS)
def test_encoder_matches(official, conf_name):
    theirs, ours, add_blank = _pair(official, conf_name)
    x, x_ours, lengths = _inputs(add_blank)
    with torch.no_grad():
        m, logs, logw, x_mask = theirs.encoder(x, lengths)
        mu, log_sigma, log_w, our_mask = ours._encode(x_ours, lengths, None)
    assert float(m.abs().mean()) > 0.1 and float(logw.std()) > 0.01  # not trivially zero
    torch.testing.assert_close(our_mask, x_mask, atol=0, rtol=0)
    torch.testing.assert_close(mu, m, **TOL)
    torch.testing.assert_close(log_sigma, logs, **TOL)
    torch.testing.assert_close(log_w, logw, **TOL)


@pytest.mark.parametrize("conf_name", CONFIGS)
def test_decoder_and_training_pass_match(official, conf_name):
    """Decoder z and log-determinant of the same mel, MAS alignment, losses' inputs."""
    theirs, ours, add_blank = _pair(official, conf_name)
    x, x_ours, lengths = _inputs(add_blank)
    gen = torch.Generator().manual_seed(2)
    y = torch.randn(2, 80, 61, generator=gen)
    y_lengths = torch.tensor([61, 44])
    with torch.no_grad():
        (z, z_m, _, logdet, z_mask), _, (attn, logw, logw_) = theirs(x, lengths, y, y_lengths)
        t = z.shape[-1]  # both drop the odd last frame
        our_z, our_logdet = ours.decoder(y[:, :, :t], z_mask)
        out = ours(x_ours, lengths, y.transpose(1, 2), y_lengths)
    assert t == 60 and float(logdet.abs().min()) > 1.0
    torch.testing.assert_close(our_z, z, **TOL)
    torch.testing.assert_close(our_logdet, logdet, **TOL)
    torch.testing.assert_close(out["logdet"], logdet, **TOL)
    torch.testing.assert_close(out["path"], attn.squeeze(1), atol=0, rtol=0)
    torch.testing.assert_close(out["log_w"], logw.squeeze(1), **TOL)
    # our duration target is the official logw_ (log of the MAS durations)
    torch.testing.assert_close(
        torch.log(out["durations"].float() + 1e-8) * (logw_.squeeze(1) != 0), logw_.squeeze(1),
        **TOL,
    )  # fmt: skip
    # the reverse pass inverts the forward one
    with torch.no_grad():
        back, _ = ours.decoder(our_z, z_mask, reverse=True)
    torch.testing.assert_close(back, y[:, :, :t] * z_mask, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("conf_name", CONFIGS)
def test_inference_matches_with_same_noise(official, conf_name, monkeypatch):
    """Same durations and noise: same mel. Our own durations differ only in the frame
    total: the official truncates it down to a multiple of n_sqz, ours rounds it up and
    gives the extra frame to the last token.

    The official ``torch.randn_like(z_m)`` fills a transposed view, i.e. draws the noise
    in (B, T, C) memory order, ours in (B, C, T): the official call is handed the same
    ``(B, C, T)`` draw so that both see the same eps.
    """
    theirs, ours, add_blank = _pair(official, conf_name)
    x, x_ours, lengths = _inputs(add_blank)
    torch.manual_seed(7)
    monkeypatch.setattr(torch, "randn_like", lambda t: torch.randn(t.shape, dtype=t.dtype))
    with torch.no_grad():
        (y, *_), _, (attn, logw, _) = theirs(x, lengths, gen=True, noise_scale=0.667)
    monkeypatch.undo()
    official_dur = attn.squeeze(1).sum(-1).long()  # (B, T_text) after truncation
    out = ours.inference(
        x_ours, lengths, noise_scale=0.667, durations=official_dur,
        generator=torch.Generator().manual_seed(7),
    )  # fmt: skip
    assert float(y.abs().mean()) > 0.1
    torch.testing.assert_close(out["mel"].transpose(1, 2), y, **TOL)
    torch.testing.assert_close(out["durations"], official_dur, atol=0, rtol=0)

    # the pinned difference: durations from log_w
    own = ours.inference(x_ours, lengths, noise_scale=0.667, generator=torch.Generator())
    mask = sequence_mask(lengths, x.shape[1])
    w_ceil = torch.ceil(torch.exp(logw.squeeze(1)) * mask).long()
    total = w_ceil.sum(1)
    sqz = ours.n_sqz
    assert bool((total % sqz != 0).any())  # the case where the two differ is exercised
    torch.testing.assert_close(own["mel_lengths"], (total + sqz - 1) // sqz * sqz)
    torch.testing.assert_close(official_dur.sum(1), total // sqz * sqz)
    extra = own["durations"] - w_ceil
    last = lengths - 1
    assert bool((extra[torch.arange(2), last] == (-total) % sqz).all())
    extra[torch.arange(2), last] = 0
    assert not bool(extra.any())


def _save_official(tmp_path, theirs, conf_name):
    ckpt = tmp_path / "pretrained.pth"
    torch.save(
        {"model": theirs.state_dict(), "iteration": 1234, "optimizer": {}, "learning_rate": 1.0},
        ckpt,
    )
    conf = tmp_path / "config.json"
    conf.write_text((anchor_dir() / "configs" / conf_name).read_text())
    return ckpt, conf


@pytest.mark.parametrize("conf_name", CONFIGS)
def test_import_round_trip_synthesizes(official, tmp_path, conf_name):
    from glowtts.synthesis.synthesizer import Synthesizer

    theirs, ours, add_blank = _pair(official, conf_name)
    ckpt, conf = _save_official(tmp_path, theirs, conf_name)
    exp = import_official(ckpt, conf, tmp_path / "exp", anchor_dir() / "data" / "cmu_dictionary")
    for name in ("config.yaml", "frontend.yaml", "tokens.txt", "cmu_dictionary", "version.json"):
        assert (exp / name).is_file(), name
    assert json.loads((exp / "version.json").read_text())["imported_from"]["iteration"] == 1234
    syn = Synthesizer.from_exp(exp)
    assert syn.frontend.add_blank == add_blank
    text = "Dr. Smith paid $3.50 for 2 books."
    ids = syn.frontend.encode(text)
    assert len(ids) == (2 * len(syn.frontend.text_to_ids(text)) + 1 if add_blank else len(ids))
    # the loaded model is the official one
    x_ours = torch.tensor([ids])
    with torch.no_grad():
        mu, *_ = syn.model._encode(x_ours, torch.tensor([len(ids)]), None)
        mu_ours, *_ = ours._encode(x_ours, torch.tensor([len(ids)]), None)
    torch.testing.assert_close(mu, mu_ours, **TOL)
    wav, sr = syn.tts(text, seed=0)
    assert sr == 22050 and len(wav) > 0 and bool(np.isfinite(wav).all())


def test_refuses_other_files(tmp_path):
    bad = tmp_path / "bad.pth"
    torch.save({"state_dict": {}}, bad)
    with pytest.raises(ValueError, match="not an official Glow-TTS checkpoint"):
        load_official_checkpoint(bad)
    torch.save(torch.nn.Linear(2, 2), tmp_path / "pickled.pth")
    with pytest.raises(ValueError, match="weights_only"):
        load_official_checkpoint(tmp_path / "pickled.pth")
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError):
        load_official_checkpoint(tmp_path / "junk.pth")


def test_translate_refuses_what_has_no_counterpart():
    base = {"model": {"hidden_channels": 8, "filter_channels": 8, "filter_channels_dp": 8,
                      "window_size": 4}, "data": {"n_mel_channels": 80}}  # fmt: skip
    m = translate_config(base)["model"]
    # absent keys take the official constructor defaults, not ours
    assert (m["n_sqz"], m["dilation_rate"], m["mean_only"], m["prenet"]) == (1, 5, False, False)
    for bad, match in (({"block_length": 4}, "block_length"), ({"window_size": None}, "window"),
                       ({"gin_channels": 16}, "gin_channels")):  # fmt: skip
        conf = {**base, "model": {**base["model"], **bad}}
        with pytest.raises(ValueError, match=match):
            translate_config(conf)


def test_every_entry_point_accepts_an_imported_dir(official, tmp_path):
    """glowtts-import-official, then glowtts-synthesize, glowtts-decode (the recipe's
    decoding stage), glowtts-export and the server glowtts-serve runs."""
    import http.client

    from glowtts.bin import decode, export, import_official, synthesize
    from glowtts.synthesis.server import make_server, serve_in_thread
    from glowtts.synthesis.synthesizer import Synthesizer
    from glowtts.text import Frontend

    theirs, _, _ = _pair(official, "base_blank.json")
    ckpt, conf = _save_official(tmp_path, theirs, "base_blank.json")
    exp = tmp_path / "exp"
    dictionary = anchor_dir() / "data" / "cmu_dictionary"
    args = ["--checkpoint", str(ckpt), "--config", str(conf), "--out", str(exp)]
    with pytest.raises(SystemExit, match="dictionary"):  # base_blank uses CMUdict
        import_official.main(args)
    import_official.main([*args, "--dictionary", str(dictionary)])
    with pytest.raises(SystemExit, match="exists"):
        import_official.main([*args, "--dictionary", str(dictionary)])

    wav = tmp_path / "hello.wav"
    synthesize.main(["--exp", str(exp), "--text", "Hello, world.", "--out", str(wav)])
    assert wav.stat().st_size > 44

    ids = Frontend.from_file(str(exp / "frontend.yaml")).text_to_ids("It cost $5.")
    (tmp_path / "token").write_text("utt1 " + " ".join(map(str, ids)) + "\n")
    decode.main(["--exp_dir", str(exp), "--token", str(tmp_path / "token"),
                 "--out_dir", str(tmp_path / "dec"), "--verbose", "false"])  # fmt: skip
    durs = (tmp_path / "dec" / "durations").read_text().split()
    assert durs[0] == "utt1" and len(durs) - 1 == 2 * len(ids) + 1  # blanks included

    export.main(["--exp", str(exp), "--format", "torchscript", "--out", str(tmp_path / "m.pt")])
    assert (tmp_path / "m.pt").is_file()

    srv = make_server(Synthesizer.from_exp(exp, vocoder_options={"n_iter": 2}), "127.0.0.1", 0)
    thread = serve_in_thread(srv)
    try:
        conn = http.client.HTTPConnection(*srv.server_address[:2], timeout=60)
        body = json.dumps({"text": "Hello."}).encode()
        conn.request("POST", "/tts", body=body, headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        assert r.status == 200 and r.read()[:4] == b"RIFF"
        conn.close()
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)


def test_small_multispeaker_layout_with_every_option(official):
    """A layout the base configs leave out: speakers (emb_g, WN conditioning, speaker-aware
    duration predictor), learned sigma (proj_s), dilation, sigmoid scale, weight norm
    removed before saving (the official store_inverse)."""
    conf = {"data": {"n_mel_channels": 20, "add_blank": True},
            "model": {"hidden_channels": 16, "filter_channels": 32, "filter_channels_dp": 16,
                      "n_layers_enc": 2, "n_blocks_dec": 3, "dilation_rate": 2,
                      "n_block_layers": 3, "kernel_size_dec": 3, "n_sqz": 2, "prenet": True,
                      "window_size": 2, "n_speakers": 3, "gin_channels": 8,
                      "sigmoid_scale": True}}  # fmt: skip
    torch.manual_seed(0)
    theirs = official.FlowGenerator(149, out_channels=20, **conf["model"]).eval()
    _randomise(theirs, 3)
    theirs.store_inverse()  # removes weight norm inside the WaveNet stacks
    assert "decoder.flows.2.wn.in_layers.0.weight" in theirs.state_dict()
    ours = build_model(translate_config(conf)["model"], len(OFFICIAL_SYMBOLS) + 2)
    ours.load_state_dict(convert_state_dict(theirs.state_dict(), ours, True))
    ours.eval()
    x, x_ours, lengths = _inputs(True)
    spk = torch.tensor([2, 0])
    y = torch.randn(2, 20, 30, generator=torch.Generator().manual_seed(4))
    y_lengths = torch.tensor([30, 21])
    with torch.no_grad():
        (z, _, _, logdet, z_mask), (m, logs, _), (attn, logw, _) = theirs(
            x, lengths, y, y_lengths, g=spk
        )
        g = ours._speaker(spk)
        mu, log_sigma, log_w, _ = ours._encode(x_ours, lengths, g)
        our_z, our_logdet = ours.decoder(y[:, :, : z.shape[-1]], z_mask, g)
        out = ours(x_ours, lengths, y.transpose(1, 2), y_lengths, spk=spk)
    assert float(logs.abs().mean()) > 0.01
    torch.testing.assert_close(mu, m, **TOL)
    torch.testing.assert_close(log_sigma, logs, **TOL)
    torch.testing.assert_close(log_w, logw, **TOL)
    torch.testing.assert_close(our_z, z, **TOL)
    torch.testing.assert_close(our_logdet, logdet, **TOL)
    torch.testing.assert_close(out["path"], attn.squeeze(1), atol=0, rtol=0)
