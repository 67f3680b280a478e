"""Stage 2 screens the text: foreign characters are named, bad utterances fail or are skipped."""

from __future__ import annotations

import logging

import pytest

from glowtts.bin import make_token_list as make_token_list_main
from glowtts.bin import tokenize as tokenize_main
from glowtts.text import Frontend, TokenList, build_frontend
from glowtts.text.stage import is_foreign, read_token_file

GOOD = [
    "Printing, in the only sense with which we are at present concerned,",
    "differs from most if not from all the arts and crafts represented.",
    "In being comparatively modern.",
]
# utt-emoji: an emoji; utt-cjk: CJK letters; utt-rtl: Hebrew letters with a right-to-left mark;
# utt-punct: punctuation only; utt-empty: nothing left after cleaning
TRICKY = {
    "utt-emoji": "What a day \U0001f600 indeed.",
    "utt-cjk": "The word \u4e2d\u6587 means Chinese.",
    "utt-rtl": "Shalom \u200f\u05e9\u05dc\u05d5\u05dd friends.",
    "utt-punct": "... !?",
    "utt-empty": "\u200b",
}


def _text(path, extra=TRICKY):
    lines = [f"good{i} {t}" for i, t in enumerate(GOOD)] + [f"{u} {t}" for u, t in extra.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _mtl(tmp_path, text, *extra):
    argv = ["--text", str(text), "--out_dir", str(tmp_path / "tl"), "--token_type", "char"]
    return make_token_list_main.main([*argv, *extra])


def test_foreign_rule_follows_the_cleaners() -> None:
    for ch in "aZ09 .,;!?'\"-$#":
        assert not is_foreign(ch, ascii_only=True) and not is_foreign(ch, ascii_only=False)
    for ch in "\U0001f600\u4e2d\u05e9\u200f\u00e9":  # transliteration leaves none of these
        assert is_foreign(ch, ascii_only=True)
    # without transliteration: any script's letters are text, symbols and marks are not
    for ch in "\u4e2d\u05e9\u00e9\u0416\u3002":
        assert not is_foreign(ch, ascii_only=False)
    for ch in "\U0001f600\u200f\u200d\u2028\ue000":
        assert is_foreign(ch, ascii_only=False)


def test_bad_utterances_fail_naming_them_and_the_fix(tmp_path, capsys, caplog) -> None:
    text = _text(tmp_path / "text")
    with caplog.at_level(logging.WARNING):
        assert _mtl(tmp_path, text) == 1
    err = capsys.readouterr().err
    assert "utt-punct" in err and "utt-empty" in err and "--skip_bad true" in err
    assert "good0" not in err and "utt-cjk" not in err  # only the bad ones are named
    assert not (tmp_path / "tl" / "tokens.txt").exists()
    # the foreign characters were reported as a warning with their Unicode names
    assert "U+1F600 '\U0001f600' GRINNING FACE in utt-emoji" in caplog.text
    assert "CJK UNIFIED IDEOGRAPH-4E2D" in caplog.text and "utt-cjk" in caplog.text
    assert "HEBREW LETTER SHIN" in caplog.text and "RIGHT-TO-LEFT MARK" in caplog.text
    # glowtts-tokenize refuses them the same way, writing nothing
    build_frontend({"token_type": "char"}).save(str(tmp_path / "fe"))
    out = tmp_path / "dump" / "token"
    argv = ["--frontend", str(tmp_path / "fe"), "--text", str(text), "--out", str(out)]
    assert tokenize_main.main(argv) == 1
    err = capsys.readouterr().err
    assert "utt-punct" in err and "utt-empty" in err and "--skip_bad true" in err
    assert not out.exists()


def test_without_skip_bad_foreign_characters_warn_and_enter_the_char_list(tmp_path, caplog) -> None:
    text = _text(tmp_path / "text", {k: v for k, v in TRICKY.items() if k in ("utt-cjk",)})
    with caplog.at_level(logging.WARNING):
        assert _mtl(tmp_path, text) == 0
    assert "U+4E2D" in caplog.text and "utt-cjk" in caplog.text
    assert "\u4e2d" in TokenList.load(tmp_path / "tl" / "tokens.txt")


@pytest.mark.parametrize("flag", [["--skip_bad", "true"], ["--skip_bad"]])
def test_skip_bad_drops_and_lists_them(tmp_path, flag, caplog) -> None:
    text = _text(tmp_path / "text")
    with caplog.at_level(logging.WARNING):
        assert _mtl(tmp_path, text, *flag) == 0
    skipped = (tmp_path / "tl" / "skipped").read_text(encoding="utf-8").splitlines()
    assert sorted(line.split()[0] for line in skipped) == sorted(TRICKY)
    reasons = dict(line.split(" ", 1) for line in skipped)
    assert "no letter or digit" in reasons["utt-punct"] and "U+1F600" in reasons["utt-emoji"]
    assert "dropped 5 of 8" in caplog.text
    # characters of dropped utterances never enter the token list
    tokens = TokenList.load(tmp_path / "tl" / "tokens.txt")
    for ch in "\U0001f600\u4e2d\u6587\u05e9\u200f\u200b":
        assert ch not in tokens
    # tokenize drops the same utterances and lists them beside its output
    out = tmp_path / "dump" / "token"
    fe = tmp_path / "tl" / "frontend.yaml"
    assert tokenize_main.main(["--frontend", str(fe), "--text", str(text), "--out", str(out),
                               *flag]) == 0  # fmt: skip
    assert sorted(read_token_file(out)) == ["good0", "good1", "good2"]
    listed = (tmp_path / "dump" / "token.skipped").read_text(encoding="utf-8").split("\n")
    assert sorted(line.split()[0] for line in listed if line) == sorted(TRICKY)
    assert Frontend.from_file(str(fe)).text_to_ids(GOOD[0])  # the voice reads good text


def test_basic_cleaners_keep_other_scripts(tmp_path, caplog) -> None:
    """Without transliteration, CJK letters are text; the emoji and the RTL mark are not."""
    conf = tmp_path / "c.yaml"
    conf.write_text("text:\n  cleaners: [basic]\n")
    extra = {k: TRICKY[k] for k in ("utt-emoji", "utt-cjk", "utt-rtl")}
    text = _text(tmp_path / "text", extra)
    with caplog.at_level(logging.WARNING):
        assert _mtl(tmp_path, text, "--config", str(conf), "--skip_bad", "true") == 0
    skipped = (tmp_path / "tl" / "skipped").read_text(encoding="utf-8")
    assert "utt-emoji" in skipped and "utt-rtl" in skipped and "utt-cjk" not in skipped
    assert "\u4e2d" in TokenList.load(tmp_path / "tl" / "tokens.txt")
