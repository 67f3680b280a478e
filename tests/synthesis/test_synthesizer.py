"""glowtts.Synthesizer: loading an experiment, text handling, batching, options."""

from __future__ import annotations

import logging
import subprocess
import sys

import numpy as np
import pytest
from conftest import FEATS, N_MELS, make_exp

from glowtts.synthesis.synthesizer import Synthesizer, plot_utterance, split_text
from glowtts.text import EmptyTextError


@pytest.fixture(scope="module")
def syn(tiny_exp):
    return Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 4})


def test_import_glowtts_is_light_and_exports_synthesizer():
    code = (
        "import sys, glowtts; assert 'torch' not in sys.modules; "
        "from glowtts import Synthesizer; assert 'torch' in sys.modules; print(Synthesizer.__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "Synthesizer"


def test_tts_returns_float_wav_at_the_experiment_rate(syn):
    wav, sr = syn.tts("Hello world. How are you?", seed=3)
    assert sr == FEATS["fs"] and wav.dtype == np.float32 and wav.ndim == 1
    mel = syn.mel("Hello world. How are you?", seed=3)
    assert mel.shape[1] == N_MELS and mel.shape[0] % 2 == 0  # squeeze factor 2
    # Griffin-Lim gives (T - 1) * hop samples
    assert len(wav) == (mel.shape[0] - 1) * FEATS["hop_length"]
    assert np.isfinite(wav).all() and np.abs(wav).max() > 0


def test_defaults_come_from_the_decode_section(syn):
    assert (syn.noise_scale, syn.length_scale, syn.batch_size) == (0.5, 1.0, 4)


def test_seed_and_noise_scale(syn):
    a = syn.mel("Seeded text.", seed=5)
    assert np.array_equal(a, syn.mel("Seeded text.", seed=5))
    assert not np.allclose(a, syn.mel("Seeded text.", seed=6))
    z0 = syn.mel("Seeded text.", noise_scale=0.0, seed=5)
    assert np.allclose(z0, syn.mel("Seeded text.", noise_scale=0.0, seed=9))


def test_length_scale_stretches(syn):
    n1 = syn.mel("A sentence of some length.", length_scale=1.0).shape[0]
    n3 = syn.mel("A sentence of some length.", length_scale=3.0).shape[0]
    assert n3 > 2 * n1


def test_durations_override(syn):
    ids = syn.encode("abc")
    durs = [3, 5, 2][: len(ids)]
    (utt,) = syn.synthesize(["abc"], durations=durs, vocode=False)
    assert utt.durations[0][: len(durs) - 1] == durs[:-1]
    assert utt.mel.shape[0] == 10  # 3 + 5 + 2, already a multiple of 2
    with pytest.raises(ValueError, match="durations for"):
        syn.mel("abc", durations=[1, 2])
    with pytest.raises(ValueError, match="exactly one text"):
        syn.synthesize(["abc", "de"], durations=[1, 1, 1])


@pytest.mark.parametrize("text", ["", "   ", "?!...", "-- ;"])
def test_empty_or_punctuation_only_text_is_a_value_error(syn, text):
    with pytest.raises(ValueError):
        syn.tts(text)


def test_empty_text_error_type(syn):
    with pytest.raises(EmptyTextError):
        syn.mel("  \n ")


def test_unknown_characters_warn_and_still_synthesise(syn, caplog):
    with caplog.at_level(logging.WARNING):
        mel = syn.mel("abc \u4e2d\u6587 def")
    assert mel.shape[0] > 0
    assert any("<unk>" in r.getMessage() for r in caplog.records)


def test_split_text_packs_sentences_under_the_limit():
    sents = [f"Sentence number {i} is here." for i in range(40)]
    text = " ".join(sents)
    chunks = split_text(text, max_chars=100)
    assert all(len(c) <= 100 for c in chunks) and len(chunks) > 1
    assert " ".join(chunks) == text  # nothing lost, only split at boundaries
    assert all(c.endswith(".") for c in chunks)  # cut at sentence ends
    # one very long sentence falls back to clauses, then words
    long = ", ".join(["word " * 30] * 4)
    chunks = split_text(long, max_chars=60)
    assert all(len(c) <= 60 for c in chunks)
    assert " ".join(chunks).split() == long.split()
    assert split_text("x" * 25, max_chars=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_long_text_is_split_and_joined_with_pauses(syn):
    text = " ".join(f"This is sentence {i}, spoken by the model." for i in range(120))
    assert len(text) > 5000
    (utt,) = syn.synthesize([text], noise_scale=0.0, vocode=False)
    assert len(utt.chunks) > 10 and all(len(c) <= syn.max_chunk_chars for c in utt.chunks)
    pause = int(round(syn.pause * FEATS["fs"] / FEATS["hop_length"]))
    frames = sum(sum(d) for d in utt.durations)
    assert utt.mel.shape[0] == frames + pause * (len(utt.chunks) - 1)
    # the first chunk on its own gives the same mel (batching/padding changes nothing)
    first = syn.mel(utt.chunks[0], noise_scale=0.0)
    assert np.allclose(utt.mel[: len(first)], first, atol=1e-4)


def test_batch_equals_one_by_one_and_keeps_order(syn):
    texts = ["Short.", "A much longer sentence than the first one, by far.", "Medium length text."]
    utts = syn.synthesize(texts, noise_scale=0.0, vocode=False)
    for text, utt in zip(texts, utts):
        assert utt.text == text
        assert np.allclose(utt.mel, syn.mel(text, noise_scale=0.0), atol=1e-4)
    out = syn.tts_batch(texts, noise_scale=0.0)
    assert [len(w) for w, _ in out] == [(u.mel.shape[0] - 1) * FEATS["hop_length"] for u in utts]


def test_bad_options_are_value_errors(syn):
    with pytest.raises(ValueError, match="length_scale"):
        syn.mel("abc", length_scale=0)
    with pytest.raises(ValueError, match="noise_scale"):
        syn.mel("abc", noise_scale=float("nan"))
    with pytest.raises(ValueError, match="single-speaker"):
        syn.mel("abc", spk=3)


def test_multi_speaker_by_id_or_name(tmp_path):
    exp = make_exp(tmp_path / "ms", n_speakers=3, add_blank=True)
    s = Synthesizer.from_exp(exp)
    a = s.mel("Speaker test.", spk=1, noise_scale=0.0)
    assert np.array_equal(a, s.mel("Speaker test.", spk="spk1", noise_scale=0.0))
    b = s.mel("Speaker test.", spk=2, noise_scale=0.0)
    assert a.shape != b.shape or not np.allclose(a, b)
    assert len(s.encode("ab")) == 5  # blanks interspersed: 2n + 1
    with pytest.raises(ValueError, match="multi-speaker"):
        s.mel("Speaker test.")
    with pytest.raises(ValueError, match="unknown speaker"):
        s.mel("Speaker test.", spk="nobody")
    with pytest.raises(ValueError, match="out of range"):
        s.mel("Speaker test.", spk=3)


def test_missing_pieces_are_clear_errors(tmp_path, tiny_exp):
    with pytest.raises(FileNotFoundError, match="config.yaml"):
        Synthesizer.from_exp(tmp_path)
    with pytest.raises(ValueError, match="unknown vocoder"):
        Synthesizer.from_exp(tiny_exp, vocoder="wavenet")


def test_plot_utterance_writes_png(syn, tmp_path):
    (utt,) = syn.synthesize(["One. " * 3], vocode=False)
    plot_utterance(utt, tmp_path / "u.png")
    assert (tmp_path / "u.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_text_of_only_unknown_characters_is_an_error(syn):
    """Text whose every letter is outside the voice's token list would be rendered as <unk>
    noise: an error that lists the unknown characters and what the voice can read."""
    from glowtts.text import UnknownTextError

    with pytest.raises(UnknownTextError, match=r"'\\u4e2d' '\\u6587'|'中' '文'") as err:
        syn.mel("\u4e2d\u6587, \u4e2d!")
    assert "it knows: 'abc" in str(err.value)
    assert isinstance(err.value, EmptyTextError)  # callers catching empty text catch this too


# ------------------------------------------------------------ bounds (issue 20, fault 2)
@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("length_scale", 1e6, "[0.1, 10]"),
        ("length_scale", 300, "[0.1, 10]"),
        ("length_scale", 0.01, "[0.1, 10]"),
        ("noise_scale", 1e30, "[0, 5]"),
        ("noise_scale", -0.1, "[0, 5]"),
        ("noise_scale", float("inf"), "[0, 5]"),
    ],
)
def test_scales_outside_their_range_are_refused(syn, key, value, allowed):
    with pytest.raises(ValueError, match=rf"{key} must be a number in \{allowed[:-1]}\]"):
        syn.tts("abc", **{key: value})


def test_scale_bounds_are_inclusive(syn):
    assert syn.mel("abc", length_scale=0.1, noise_scale=0.0).shape[0] >= 2
    assert np.isfinite(syn.mel("abc", length_scale=10, noise_scale=5.0)).all()


def test_bad_scales_in_the_decode_section_are_refused(tmp_path):
    import yaml

    exp = make_exp(tmp_path / "exp")
    conf = yaml.safe_load((exp / "config.yaml").read_text())
    conf["decode"]["length_scale"] = 1e6
    (exp / "config.yaml").write_text(yaml.safe_dump(conf))
    with pytest.raises(ValueError, match="length_scale"):
        Synthesizer.from_exp(exp)


def test_too_long_output_is_refused_before_the_decoder_runs(tiny_exp, monkeypatch):
    from glowtts.synthesis.synthesizer import OutputTooLongError

    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 1}, max_seconds=1.0)
    assert syn.max_frames == int(1.0 * FEATS["fs"] / FEATS["hop_length"])
    text = "Some words."
    frames = syn.mel(text, length_scale=1.0, noise_scale=0.0).shape[0]
    syn.max_seconds = 2 * frames * FEATS["hop_length"] / FEATS["fs"]  # the cap: 2x that
    assert syn.mel(text, length_scale=1.5).shape[0] <= syn.max_frames
    scale = 4.0  # well over the cap

    def no_decoder(*args, **kwargs):
        raise AssertionError("the decoder ran on a request over the cap")

    monkeypatch.setattr(syn.model.decoder, "forward", no_decoder)
    with pytest.raises(OutputTooLongError, match=r"max_seconds=[0-9.]+;.*length_scale") as e:
        syn.tts(text, length_scale=scale)
    assert isinstance(e.value, ValueError)
    # teacher durations are capped too
    with pytest.raises(OutputTooLongError):
        syn.mel("abc", durations=[syn.max_frames, 1, 1])


def test_max_seconds_comes_from_the_decode_section(tmp_path):
    import yaml

    exp = make_exp(tmp_path / "exp")
    conf = yaml.safe_load((exp / "config.yaml").read_text())
    conf["decode"]["max_seconds"] = 2.5
    (exp / "config.yaml").write_text(yaml.safe_dump(conf))
    assert Synthesizer.from_exp(exp).max_seconds == 2.5
    assert Synthesizer.from_exp(exp, max_seconds=7).max_seconds == 7.0
    with pytest.raises(ValueError, match="max_seconds"):
        Synthesizer.from_exp(exp, max_seconds=0)


def test_non_finite_audio_is_an_error_never_returned(tiny_exp, monkeypatch):
    from glowtts.synthesis.synthesizer import SynthesisError

    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 1})
    real = syn.vocoder
    monkeypatch.setattr(syn, "vocoder", lambda mels, device=None: [w * np.nan for w in real(mels)])
    with pytest.raises(SynthesisError, match="waveform.*non-finite"):
        syn.tts("abc")
    monkeypatch.setattr(syn, "vocoder", real)
    orig = syn._infer

    def nan_mel(*args, **kwargs):
        out = orig(*args, **kwargs)
        out["mel"] = out["mel"] * float("nan")
        return out

    monkeypatch.setattr(syn, "_infer", nan_mel)
    with pytest.raises(SynthesisError, match="mel.*non-finite"):
        syn.mel("abc")


def test_long_text_model_batches_respect_padded_budgets(tiny_exp, monkeypatch):
    """The encoder and decoder passes batch chunks by padded tokens / frames, and the
    result does not depend on the batching (issue 20, fault 11)."""
    import glowtts.synthesis.synthesizer as synth_mod

    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 1}, max_chunk_chars=40)
    text = " ".join(f"Sentence number {n} is here." for n in range(12))
    ref = syn.mel(text, seed=3)
    shapes = []
    real = syn._infer

    def spy(tokens, lengths, **kw):
        out = real(tokens, lengths, **kw)
        shapes.append((tokens.shape[0], int(kw["durations"].sum(1).max())))
        return out

    monkeypatch.setattr(syn, "_infer", spy)
    monkeypatch.setattr(synth_mod, "DECODER_BATCH_FRAMES", 130)
    monkeypatch.setattr(synth_mod, "ENCODER_BATCH_TOKENS", 80)
    out = syn.mel(text, seed=3)
    assert len(shapes) > 3
    assert all(b * t <= 130 or b == 1 for b, t in shapes)
    np.testing.assert_allclose(out, ref, atol=1e-4)


def test_pack_by_length_budgets():
    from glowtts.synthesis.batch_decode import pack_by_length

    lengths = [5, 50, 20, 19, 3, 200, 21, 7]
    batches = pack_by_length(lengths, max_items=3, max_padded=60)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 60
        assert [lengths[i] for i in b] == sorted((lengths[i] for i in b), reverse=True)
    assert [5] in batches  # longer than the budget: alone
    assert pack_by_length(lengths) == [sorted(range(8), key=lambda i: -lengths[i])]


def test_output_cap_is_per_text_not_per_call(tiny_exp):
    """A text file of many short lines is one call; each line is capped, not their sum."""
    from glowtts.synthesis.synthesizer import OutputTooLongError

    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 1})
    frames = syn.mel("Some words.", noise_scale=0.0).shape[0]
    syn.max_seconds = 1.5 * frames * FEATS["hop_length"] / FEATS["fs"]
    utts = syn.synthesize(["Some words."] * 4, noise_scale=0.0, vocode=False)
    assert sum(u.mel.shape[0] for u in utts) > syn.max_frames
    with pytest.raises(OutputTooLongError, match="text 2:"):
        syn.synthesize(["Some words.", "Some words. Some words."], vocode=False)


def test_bf16_precision_runs_the_model_under_autocast_close_to_fp32(
    tiny_exp, monkeypatch, autocast_dtypes
):
    """``precision="bf16"``: the acoustic model runs in bf16 autocast (encoder and
    decoder), the mel stays float32 and near the fp32 one; ``auto`` follows the CPU."""
    import torch

    import glowtts.utils

    ref = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 4})
    bf = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 4}, precision="bf16")
    assert (ref.precision, bf.precision) == ("fp32", "bf16")
    seen = autocast_dtypes
    text = "A sentence of some length."
    durs = [3] * len(ref.encode(text))
    a = ref.mel(text, seed=1, durations=durs)
    assert seen == []
    b = bf.mel(text, seed=1, durations=durs)
    assert seen and set(seen) == {torch.bfloat16}
    assert b.dtype == np.float32 and b.shape == a.shape
    assert np.abs(b - a).max() < 0.05 * np.abs(a).max() + 0.05
    monkeypatch.setattr(glowtts.utils, "cpu_bf16_flags", lambda: [])
    assert Synthesizer.from_exp(tiny_exp, precision="auto").precision == "fp32"
    monkeypatch.setattr(glowtts.utils, "cpu_bf16_flags", lambda: ["amx_bf16"])
    assert Synthesizer.from_exp(tiny_exp, precision="auto").precision == "bf16"
    with pytest.raises(ValueError, match="precision must be one of"):
        Synthesizer.from_exp(tiny_exp, precision="fp16")
