"""Word and token timings: they tile the audio and follow the durations the model used."""

from __future__ import annotations

import pytest
from conftest import FEATS, make_exp

from glowtts.synthesis.synthesizer import Synthesizer
from glowtts.synthesis.timings import PAUSE, merge_blanks
from glowtts.text.token_list import BLANK_ID

SR = FEATS["fs"]


def _check_tiling(info, n_samples):
    toks = info["tokens"]
    assert toks[0]["start"] == 0.0
    for a, b in zip(toks, toks[1:]):
        assert a["end"] == b["start"] and a["start"] < a["end"] or a["end"] == a["start"]
    assert toks[-1]["end"] == pytest.approx(n_samples / SR, abs=1e-12)
    assert info["seconds"] == pytest.approx(n_samples / SR, abs=1e-12)
    assert sum(t["end"] - t["start"] for t in toks) == pytest.approx(n_samples / SR, abs=1e-9)
    words = info["words"]
    for a, b in zip(words, words[1:]):
        assert a["start"] < a["end"] <= b["start"]


@pytest.mark.parametrize("add_blank", [False, True])
def test_token_times_tile_the_audio_and_words_are_in_order(tmp_path, add_blank):
    syn = Synthesizer.from_exp(
        make_exp(tmp_path / "e", add_blank=add_blank),
        vocoder_options={"n_iter": 2},
        max_chunk_chars=20,
    )
    text = '<speak>Hello there, my friend. <break time="300ms"/> Fine words here!</speak>'
    wav, sr, info = syn.tts_timed(text, seed=0, sentence_silence=0.2)
    assert sr == SR
    _check_tiling(info, len(wav))
    assert [w["word"] for w in info["words"]] == [
        "Hello",
        "there,",
        "my",
        "friend.",
        "Fine",
        "words",
        "here!",
    ]
    names = [t["token"] for t in info["tokens"]]
    assert BLANK_ID not in names and "<blank>" not in names
    assert (
        "".join(n if n != PAUSE else "|" for n in names)
        == "hello there,|my friend.|fine words here!"
    )
    # the chunk pause, then the break: each one token of its length
    pauses = [t["end"] - t["start"] for t in info["tokens"] if t["token"] == PAUSE]
    assert pauses == pytest.approx([round(syn.pause * SR) / SR, round(0.3 * SR) / SR])
    # the same audio as tts()
    assert (syn.tts(text, seed=0, sentence_silence=0.2)[0] == wav).all()


def test_timings_follow_given_durations(tiny_exp):
    syn = Synthesizer.from_exp(tiny_exp, vocoder_options={"n_iter": 2})
    ids = syn.encode("ab c")
    durs = [4, 2, 6, 8]
    wav, _, info = syn.tts_timed("ab c", durations=durs)
    frames = sum(durs)
    ends = [t["end"] for t in info["tokens"]]
    n = len(wav)
    assert ends == pytest.approx(
        [4 * n / frames / SR, 6 * n / frames / SR, 12 * n / frames / SR, n / SR]
    )
    assert [w["word"] for w in info["words"]] == ["ab", "c"] and len(ids) == 4


def test_merge_blanks_shares_frames_with_neighbours():
    b = BLANK_ID
    assert merge_blanks([b, 5, b, 6, b], [3, 2, 5, 1, 4]) == [(5, 3 + 2 + 2), (6, 3 + 1 + 4)]
    assert merge_blanks([5], [7]) == [(5, 7)]
    assert sum(d for _, d in merge_blanks([b, 5, b, 6, b, 7, b], [1, 2, 3, 4, 5, 6, 7])) == 28


def test_phoneme_voice_words_come_from_the_text(tmp_path):
    """Phoneme tokens carry no spaces: words are found by tokenizing each word alone."""
    import torch
    from conftest import TINY_MODEL

    from glowtts.audio import MelConfig
    from glowtts.nets import build_model
    from glowtts.registry import build_vocoder
    from glowtts.text import build_frontend

    fe = build_frontend({"token_type": "phn", "add_blank": True})
    torch.manual_seed(0)
    model = build_model(dict(TINY_MODEL), fe.vocab_size).eval()
    syn = Synthesizer(
        model, fe, MelConfig.from_dict(FEATS), build_vocoder("griffin_lim", FEATS, "cpu", n_iter=2)
    )
    wav, _, info = syn.tts_timed(
        "Hello world, Zorblax.", seed=0, lexicon={"zorblax": "Z AO1 R B L AE2 K S"}
    )
    _check_tiling(info, len(wav))
    assert [w["word"] for w in info["words"]] == ["Hello", "world,", "Zorblax."]
    toks = [t["token"] for t in info["tokens"]]
    assert toks[:4] == ["HH", "AH0", "L", "OW1"] and toks[-9:] == [
        "Z",
        "AO1",
        "R",
        "B",
        "L",
        "AE2",
        "K",
        "S",
        ".",
    ]
    # "Hello" ends where the W of "world," starts
    assert info["words"][0]["end"] == info["tokens"][4]["start"]


def test_words_fall_back_to_separators_when_the_text_does_not_match():
    from glowtts.synthesis.timings import timings, word_spans

    toks = ["t", "w", "o", " ", "b", "e"]
    assert word_spans(["two", "be"], toks, list) == [("two", 0, 3), ("be", 4, 6)]
    assert word_spans(["2", "be"], toks, list) is None  # a cleaner spelled "2" as "two"
    names = dict(enumerate(toks, 2))
    info = timings(
        [("speech", list(names), [1] * 6, 60, "2 be")],
        10,
        lambda ids: [names[i] for i in ids],
        "".join,
        list,
    )
    assert [(w["word"], w["start"], w["end"]) for w in info["words"]] == [
        ("two", 0, 3),
        ("be", 4, 6),
    ]
