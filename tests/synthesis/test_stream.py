"""Synthesizer.stream, SSML / sentence_silence / lexicon keyword arguments of tts()."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import FEATS, break_vocoder_call

from glowtts.synthesis.synthesizer import OutputTooLongError, Synthesizer
from glowtts.text.ssml import SSMLError

TEXT = "Hello there. This is a test. Another sentence here, with words. The end!"
SR = FEATS["fs"]


@pytest.fixture(scope="module")
def syn(tiny_exp):
    # short chunks so a few sentences make several chunks
    return Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 4}, max_chunk_chars=20)


def test_stream_concatenation_equals_tts_for_the_same_seed(syn):
    parts = list(syn.stream(TEXT, seed=7))
    wav, sr = syn.tts(TEXT, seed=7)
    chunks = [p.text for p in syn.plan(TEXT) if p.ids]
    assert chunks == syn.split(TEXT)  # all chunks shorter than first_chunk_chars
    # speech chunks with a pause after each clause or sentence end, in order
    pieces = syn.plan(TEXT)
    assert len(parts) == len(pieces) == 2 * len(chunks) - 2  # "Another sentence" is cut at a space
    pause = int(round(syn.pause * sr))
    for piece, part in zip(pieces, parts):
        if piece.ids:
            assert np.abs(part).max() > 0
        else:
            assert len(part) == pause and not part.any()
    np.testing.assert_array_equal(np.concatenate(parts), wav)
    # each speech part is that chunk synthesised alone with seed + its index
    speech = [part for piece, part in zip(pieces, parts) if piece.ids]
    for k, chunk in enumerate(chunks):
        alone, _ = syn.tts(chunk, seed=7 + k)
        np.testing.assert_array_equal(speech[k], alone)


def test_stream_is_a_lazy_iterator_and_errors_come_before_audio(syn, tiny_exp):
    it = syn.stream(TEXT, seed=1)
    first = next(it)
    assert first.ndim == 1 and len(first) > 0
    with pytest.raises(ValueError, match="length_scale"):
        next(syn.stream(TEXT, length_scale=50))
    with pytest.raises(TypeError, match="speed"):  # a misspelt option is not ignored
        next(syn.stream(TEXT, speed=2))
    syn_small = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 4}, max_seconds=0.05)
    with pytest.raises(OutputTooLongError):
        next(syn_small.stream(TEXT))


def test_ssml_break_lengthens_the_audio_by_the_break(syn):
    base, _ = syn.tts('<speak>Hello there.<break strength="none"/>Good day.</speak>', seed=2)
    longer, _ = syn.tts('<speak>Hello there.<break time="750ms"/>Good day.</speak>', seed=2)
    assert len(longer) - len(base) == round(0.75 * SR)
    # the break is silence between the two unchanged chunks
    head, _ = syn.tts("Hello there.", seed=2)
    np.testing.assert_array_equal(longer[: len(head)], head)
    assert not longer[len(head) : len(head) + round(0.75 * SR)].any()


def test_ssml_is_auto_detected_and_can_be_forced_off(syn):
    auto, _ = syn.tts('<speak>Hi.<break time="1s"/>Yo.</speak>', seed=0)
    explicit, _ = syn.tts('<speak>Hi.<break time="1s"/>Yo.</speak>', seed=0, ssml=True)
    np.testing.assert_array_equal(auto, explicit)
    pieces = syn.plan('<speak>Hi.<break time="1s"/>Yo.</speak>')
    assert [(p.text, p.seconds) for p in pieces] == [("Hi.", 0), ("", 1), ("Yo.", 0)]
    # ssml=False reads the markup as text: no break of 1 s
    pieces = syn.plan('<speak>Hi.<break time="1s"/>Yo.</speak>', ssml=False)
    assert pieces[0].text.startswith("<speak>")
    assert all(p.seconds < 1 for p in pieces)


def test_prosody_rate_scales_length_and_is_bounded(syn):
    normal, _ = syn.tts("<speak>Some words here.</speak>", seed=3, noise_scale=0.0)
    slow, _ = syn.tts('<speak><prosody rate="50%">Some words here.</prosody></speak>', seed=3)
    assert len(slow) > 1.5 * len(normal)
    with pytest.raises(ValueError, match="length_scale"):  # 10 / 20% = 50: out of range
        syn.tts('<speak><prosody rate="20%">Some words.</prosody></speak>', length_scale=10)


def test_bad_markup_is_a_clear_error(syn):
    with pytest.raises(SSMLError, match="emphasis"):
        syn.tts("<speak>Hello <emphasis>there</emphasis></speak>")
    with pytest.raises(SSMLError, match="malformed"):
        syn.tts("<speak>Hello <break time='1s'></speak>")


def test_sentence_silence_adds_silence_between_sentences(syn):
    text = "One two. Three four."
    plain, _ = syn.tts(text, seed=4)
    spaced, _ = syn.tts(text, seed=4, sentence_silence=0.5)
    a, _ = syn.tts("One two.", seed=4)
    b, _ = syn.tts("Three four.", seed=5)
    assert len(spaced) == len(a) + round(0.5 * SR) + len(b)
    assert len(plain) == len(syn.tts(text, seed=4)[0])  # one chunk, no silence added
    for bad in (-1, 11, float("nan"), True):
        with pytest.raises(ValueError, match="sentence_silence"):
            syn.tts(text, sentence_silence=bad)


def test_lexicon_needs_a_phoneme_voice(syn):
    from glowtts.text.lexicon import PronunciationError

    with pytest.raises(PronunciationError, match="phoneme voice"):
        syn.tts("Hello.", lexicon={"hello": "HH AH0 L OW1"})


@pytest.fixture(scope="module")
def phn_syn():
    """A random phoneme voice (no checkpoint needed to test the text path)."""
    import torch
    from conftest import TINY_MODEL

    from glowtts.audio import MelConfig
    from glowtts.nets import build_model
    from glowtts.registry import build_vocoder
    from glowtts.text import build_frontend

    fe = build_frontend({"token_type": "phn"})
    torch.manual_seed(0)
    model = build_model(dict(TINY_MODEL), fe.vocab_size).eval()
    voc = build_vocoder("griffin_lim", FEATS, "cpu", n_iter=2)
    return Synthesizer(model, fe, MelConfig.from_dict(FEATS), voc)


def test_lexicon_per_call_spells_a_word_like_inline_phonemes(phn_syn, tmp_path):
    lex = tmp_path / "lex.txt"
    lex.write_text("zorblax Z AO1 R B L AE2 K S\n")
    (piece,) = phn_syn.plan("Zorblax.", lexicon=str(lex))
    (inline,) = phn_syn.plan("{Z AO1 R B L AE2 K S}.")
    assert piece.ids == inline.ids
    a, _ = phn_syn.tts("Zorblax.", lexicon={"zorblax": "Z AO1 R B L AE2 K S"}, seed=1)
    b, _ = phn_syn.tts("{Z AO1 R B L AE2 K S}.", seed=1)
    np.testing.assert_array_equal(a, b)
    # the voice itself is unchanged by a call's lexicon
    assert phn_syn.plan("Zorblax.")[0].ids != inline.ids


def test_first_chunk_is_short_so_audio_starts_early(tiny_exp):
    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 2}, first_chunk_chars=30)
    text = (
        "The first sentence is long, and it has a clause. The second one is here. "
        "A third sentence ends it."
    )
    speech = [p for p in syn.plan(text)]
    assert [p.text for p in speech if p.ids] == [
        "The first sentence is long,",
        "and it has a clause. The second one is here. A third sentence ends it.",
    ]
    assert [p.seconds for p in speech if not p.ids] == [syn.pause]
    # cut at a space (no clause end within the limit): no pause inside the clause
    words = "one two three four five six seven eight nine ten eleven twelve."
    pieces = syn.plan(words)
    assert [p.text for p in pieces] == [
        "one two three four five six",
        "seven eight nine ten eleven twelve.",
    ]
    wav, _ = syn.tts(words, seed=1)
    assert len(wav) == sum(len(w) for w in syn.stream(words, seed=1))


def _stream_threads():
    import threading

    return [t for t in threading.enumerate() if t.name == "glowtts-stream"]


def test_stream_makes_the_next_chunk_ahead_in_a_thread(syn, monkeypatch):
    for ahead in (0, 1, 3):
        np.testing.assert_array_equal(
            np.concatenate(list(syn.stream(TEXT, seed=7, ahead=ahead))), syn.tts(TEXT, seed=7)[0]
        )
    assert not _stream_threads()
    # closing early stops the thread (after its current chunk)
    it = syn.stream(TEXT, seed=7)
    next(it)
    it.close()
    assert not _stream_threads()
    # a failure in a later chunk is raised where that chunk would have come
    break_vocoder_call(monkeypatch, syn, 3)
    from glowtts.synthesis.synthesizer import SynthesisError

    got = []
    with pytest.raises(SynthesisError, match="non-finite"):
        for chunk in syn.stream(TEXT, seed=7):
            got.append(chunk)
    assert len(got) >= 2 and not _stream_threads()
