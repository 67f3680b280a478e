"""Inline phonemes ``{HH AH0 L OW1}``: exact ids for phoneme voices, clear errors otherwise."""

import pytest

from glowtts.text import (
    Frontend,
    PronunciationError,
    TokenList,
    build_frontend,
    clean_text,
    train_bpe,
)


@pytest.fixture(scope="module")
def phn():
    return build_frontend({"token_type": "phn"})


def test_inline_phonemes_give_exactly_those_ids(phn):
    ids = phn.text_to_ids("{HH AH0 L OW1}")
    assert ids == phn.token_list.ids(["HH", "AH0", "L", "OW1"])
    # inside a sentence: the spelled word sits between the g2p's words
    ids = phn.text_to_ids("Say {HH AH0 L OW1} now.")
    said = phn.text_to_ids("Say")
    now = phn.text_to_ids("now.")
    assert ids == said + phn.token_list.ids(["HH", "AH0", "L", "OW1"]) + now


def test_inline_phonemes_with_blanks_and_word_sep():
    fe = build_frontend({"token_type": "phn", "add_blank": True, "phn": {"word_sep": " "}})
    tl = fe.token_list
    assert fe.encode("{K AE1 T}") == [0, tl.id("K"), 0, tl.id("AE1"), 0, tl.id("T"), 0]
    assert fe.tokenize("a {K AE1 T}") == ["AH0", " ", "K", "AE1", "T"]


def test_stress_mapping_is_the_voices():
    nostress = build_frontend({"token_type": "phn", "phn": {"stress": False}})
    assert nostress.tokenize("{HH AH0 L OW1}") == ["HH", "AH", "L", "OW"]
    assert nostress.tokenize("{HH AH L OW}") == ["HH", "AH", "L", "OW"]
    stress = build_frontend({"token_type": "phn"})
    with pytest.raises(PronunciationError, match="AH need a stress digit"):
        stress.tokenize("{HH AH L OW1}")


def test_cleaners_leave_the_braces_alone(phn):
    # numbers, abbreviations and symbols rules never see the phones
    assert clean_text("Dr. {T UW1} paid $5 for {EH1 S T}") == (
        "Doctor {T UW1} paid five dollars for {EH1 S T}"
    )
    assert clean_text("{HH   AH0\tL OW1}") == "{HH AH0 L OW1}"
    assert phn.tokenize("{T UW1} 2") == ["T", "UW1", "T", "UW1"]


def test_unknown_phone_lists_what_the_voice_knows():
    # a voice whose token list lacks ZH: the error names ZH and lists the known phones
    base = build_frontend({"token_type": "phn"})
    tokens = [t for t in base.token_list.tokens[2:] if t != "ZH"]
    fe = Frontend({"token_type": "phn"}, token_list=TokenList.from_tokens(tokens))
    with pytest.raises(PronunciationError) as e:
        fe.encode("{ZH IY1}")
    msg = str(e.value)
    assert "phone(s) ZH unknown" in msg
    assert msg.split("it knows ")[1].split() == sorted(t for t in tokens if t[0].isalpha())
    with pytest.raises(PronunciationError, match=r"unknown phone\(s\) XX"):
        base.encode("{XX IY1}")


@pytest.mark.parametrize("text", ["{HH AH0 L OW1", "HH AH0}", "{}", "{{HH}}"])
def test_malformed_braces_are_errors(phn, text):
    with pytest.raises(PronunciationError):
        phn.encode(text)


@pytest.mark.parametrize("token_type", ["char", "bpe"])
def test_braces_in_a_voice_without_phonemes(token_type, tmp_path):
    conf = {"token_type": token_type}
    if token_type == "bpe":
        sentences = ["no braces here", "say hello to the cat", "a tiny corpus"] * 5
        conf["bpe"] = {"model": train_bpe(sentences, str(tmp_path / "bpe.model"), 30)}
    fe = build_frontend(conf)
    with pytest.raises(PronunciationError, match="has no phonemes"):
        fe.encode("say {HH AH0 L OW1}", utt="u1")
    with pytest.raises(PronunciationError, match="has no phonemes"):
        fe.tokenize("say {HH AH0 L OW1}")
    fe.encode("no braces here")  # the rest still works
