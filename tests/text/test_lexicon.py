"""User lexicon: overrides homographs, CMUdict and the neural g2p; clear errors with file:line."""

import os

import pytest

from glowtts.text import Frontend, Lexicon, PronunciationError, TokenList, build_frontend
from glowtts.text.g2p import get_g2p


@pytest.fixture(scope="module")
def phn():
    return build_frontend({"token_type": "phn"})


def _write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return str(path)


def test_parse_comments_case_and_lookup(tmp_path):
    path = _write(
        tmp_path / "lex.txt",
        "# my words\n\nTomato  T AH0 M AA1 T OW2   # British\no'brien OW0 B R AY1 AH0 N\n",
    )
    lex = Lexicon.load(path)
    assert len(lex) == 2
    assert lex.get("TOMATO") == ("T", "AH0", "M", "AA1", "T", "OW2")
    assert "O'Brien" in lex and lex.where["tomato"] == f"{path}:3"


@pytest.mark.parametrize(
    "text, line, match",
    [
        ("hello\n", 1, "not 'word PHONES'"),
        ("# c\nhello HH AX0 L OW1\n", 2, r"unknown phone\(s\) AX0"),
        ("well-done W EH1 L\n", 1, "hyphenated"),
        ("hi HH AY1\nHI HH IY1\n", 2, "one pronunciation per word"),
    ],
)
def test_malformed_lines_name_file_and_line(tmp_path, text, line, match):
    path = _write(tmp_path / "bad.txt", text)
    with pytest.raises(PronunciationError, match=match) as e:
        Lexicon.load(path)
    assert f"{path}:{line}:" in str(e.value)


def test_entry_overrides_cmudict_homographs_and_g2p(phn):
    g2p = get_g2p()
    # "tomato" is in CMUdict, "read" is a homograph, "glowtts" goes to the neural model
    assert "tomato" in g2p.cmu and "read" in g2p.homographs and "glowtts" not in g2p.cmu
    words = {
        "tomato": "T AH0 M AA1 T OW2",
        "read": "R EH1 D",
        "glowtts": "G L OW1 T IY1 T IY1 EH1 S",
    }
    for w, pron in words.items():
        assert phn.tokenize(w) != pron.split()
    fe = phn.with_lexicon(words)
    for w, pron in words.items():
        assert fe.tokenize(w.capitalize() + ".") == pron.split() + ["."]
    assert fe.text_to_ids("I read it") == (
        phn.text_to_ids("I") + fe.token_list.ids("R EH1 D".split()) + phn.text_to_ids("it")
    )
    # the plural and possessive of a lexicon word build on it
    assert fe.tokenize("glowtts's") == "G L OW1 T IY1 T IY1 EH1 S IH0 Z".split()
    assert phn.tokenize("tomato") == "T AH0 M EY1 T OW2".split()  # the original is unchanged


def test_experiment_lexicon_saved_and_loaded(tmp_path):
    src = _write(tmp_path / "my.txt", "tomato T AH0 M AA1 T OW2\n")
    fe = build_frontend({"token_type": "phn", "phn": {"lexicon": src}})
    assert fe.tokenize("tomato") == "T AH0 M AA1 T OW2".split()
    out = tmp_path / "exp"
    yaml_path = fe.save(str(out))
    assert os.path.isfile(out / "lexicon.txt")
    with open(yaml_path, encoding="utf-8") as f:
        assert "lexicon: lexicon.txt" in f.read()
    again = Frontend.from_file(yaml_path)
    assert again.tokenize("tomato") == "T AH0 M AA1 T OW2".split()
    # a call's entry wins over the experiment's for the same word; others stay
    both = again.with_lexicon({"Tomato": "T AH0 M EY1 T OW2", "potato": "P AH0 T AA1 T OW2"})
    assert both.tokenize("tomato potato") == "T AH0 M EY1 T OW2 P AH0 T AA1 T OW2".split()
    assert again.tokenize("tomato") == "T AH0 M AA1 T OW2".split()
    assert not again.differences({"token_type": "phn"})
    # saving the call's front-end records its lexicon there, not in the original
    both.save(str(tmp_path / "exp2"))
    assert Lexicon.load(tmp_path / "exp2" / "lexicon.txt").get("potato")
    assert again.tokenizer.conf["lexicon"] == "lexicon.txt"
    assert Lexicon.load(out / "lexicon.txt").get("potato") is None


def test_lexicon_txt_beside_an_older_yaml_is_used(tmp_path):
    fe = build_frontend({"token_type": "phn"})
    yaml_path = fe.save(str(tmp_path))
    assert not os.path.exists(tmp_path / "lexicon.txt")
    _write(tmp_path / "lexicon.txt", "tomato T AH0 M AA1 T OW2\n")
    assert Frontend.from_file(yaml_path).tokenize("tomato") == "T AH0 M AA1 T OW2".split()


def test_stress_mapping_and_unknown_phone_for_the_voice(tmp_path):
    nostress = build_frontend({"token_type": "phn", "phn": {"stress": False}})
    assert nostress.with_lexicon({"hi": "HH AY1"}).tokenize("hi") == ["HH", "AY"]
    with pytest.raises(PronunciationError, match="stress digit"):
        build_frontend({"token_type": "phn"}).with_lexicon({"hi": "HH AY"})
    tokens = [t for t in build_frontend({"token_type": "phn"}).token_list.tokens[2:] if t != "ZH"]
    fe = Frontend({"token_type": "phn"}, token_list=TokenList.from_tokens(tokens))
    path = _write(tmp_path / "lex.txt", "# x\nbeige B EY1 ZH\n")
    with pytest.raises(PronunciationError, match=rf"{path}:2: phone\(s\) ZH unknown.*it knows AA0"):
        fe.with_lexicon(path)


def test_lexicon_needs_a_phoneme_voice():
    with pytest.raises(PronunciationError, match="phoneme voice"):
        build_frontend({"token_type": "char"}).with_lexicon({"hi": "HH AY1"})
