"""Front-end: registry, token lists, blanks, BPE, unknown/empty text, stage-2 scripts."""

import logging
import shutil

import pytest

from glowtts.bin import make_token_list as make_token_list_main
from glowtts.bin import tokenize as tokenize_main
from glowtts.text import (
    TOKENIZERS,
    EmptyTextError,
    Frontend,
    TokenList,
    build_frontend,
    intersperse,
    remove_blanks,
    strip_blank_durations,
)
from glowtts.text.stage import read_token_file

CORPUS = [
    "Printing, in the only sense with which we are at present concerned,",
    "differs from most if not from all the arts and crafts represented in the Exhibition.",
    "In being comparatively modern.",
    "For although the Chinese took impressions from wood blocks engraved in relief,",
    "the woodcutters of the Netherlands, by a similar process, produced the block books.",
    "Mr. Smith paid $5.50 on Jan. 3rd, 1999, at 10:30 a.m. for 12 copies.",
    "The invention of movable metal letters in the middle of the fifteenth century",
    "may justly be considered as the invention of the art of printing.",
    "And it is worth mention in passing that, as an example of fine typography,",
    "the earliest book printed with movable types, the Gutenberg, or forty-two line Bible",
    "of about 1455, has never been surpassed. Dr. Jones read it twice; did you?",
    "Quick zephyrs blow, vexing daft Jim! The jay, pig, fox, zebra and my wolves quack.",
]


def _write_text(path, lines, prefix="utt"):
    with open(path, "w", encoding="utf-8") as f:
        for i, line in enumerate(lines):
            f.write(f"{prefix}{i:03d} {line}\n")
    return path


def test_registry_and_unknown_names():
    assert set(TOKENIZERS) == {"char", "phn", "bpe", "official"}
    with pytest.raises(ValueError, match="unknown token_type 'phone'.*bpe, char, official, phn"):
        build_frontend({"token_type": "phone"})
    with pytest.raises(ValueError, match="unknown key.*add_blnk"):
        build_frontend({"add_blnk": True})


def test_token_list_roundtrip_and_reserved_ids(tmp_path):
    tl = TokenList.from_tokens(["b", " ", "a", "b"])
    assert tl.tokens == ["<blank>", "<unk>", " ", "a", "b"]
    assert (tl.blank_id, tl.unk_id) == (0, 1)
    assert tl.ids(["a", "z", " "]) == [3, 1, 2]
    tl.save(tmp_path / "tokens.txt")
    lines = (tmp_path / "tokens.txt").read_text().splitlines()
    assert lines == ["<blank>", "<unk>", "<space>", "a", "b"]
    assert TokenList.load(tmp_path / "tokens.txt") == tl
    with pytest.raises(ValueError, match="must start with"):
        TokenList(["a", "<blank>", "<unk>"])
    with pytest.raises(ValueError, match="twice"):
        TokenList(["<blank>", "<unk>", "a", "a"])


def test_char_frontend_ids_and_order():
    fe = build_frontend({"token_type": "char", "add_blank": False})
    assert fe.tokenize("Dr. Who, 2!") == list("doctor who, two!")
    toks = fe.token_list.tokens
    assert toks[:3] == ["<blank>", "<unk>", " "]
    assert toks[2:] == sorted(toks[2:])  # documented order: code point
    ids = fe.encode("ab")
    assert ids == [fe.token_list.id("a"), fe.token_list.id("b")]
    assert fe.decode(ids) == "ab"
    cased = build_frontend({"token_type": "char", "lowercase": False})
    assert cased.tokenize("Ab") == ["A", "b"] and "A" in cased.token_list


@pytest.mark.parametrize("n", [0, 1, 2, 7])
def test_intersperse_length_and_layout(n):
    ids = list(range(2, 2 + n))
    out = intersperse(ids, blank_id=0)
    assert len(out) == 2 * n + 1  # doubled, minus one, plus both edges
    assert out[0::2] == [0] * (n + 1)
    assert out[1::2] == ids
    assert remove_blanks(out) == ids


def test_add_blank_in_encode():
    text = "hello there"
    plain = build_frontend({"token_type": "char", "add_blank": False}).encode(text)
    blank = build_frontend({"token_type": "char", "add_blank": True}).encode(text)
    assert blank == intersperse(plain, 0)
    assert len(blank) == 2 * len(plain) + 1


def test_strip_blank_durations():
    # [b, t1, b, t2, b, t3, b]
    d = [2, 5, 1, 3, 0, 4, 6]
    assert strip_blank_durations(d, "drop") == [5, 3, 4]
    merged = strip_blank_durations(d, "merge")
    assert merged == [2 + 5, 1 + 3, 0 + 4 + 6]
    assert sum(merged) == sum(d)
    with pytest.raises(ValueError):
        strip_blank_durations([1, 2], "merge")
    with pytest.raises(ValueError, match="unknown mode"):
        strip_blank_durations(d, "split")


def test_unknown_characters_warn_with_counts(caplog):
    fe = build_frontend({"token_type": "char", "add_blank": True})
    with caplog.at_level(logging.WARNING, logger="glowtts.text"):
        ids = fe.encode("a中b文中", utt="utt42")
    assert ids[1::2] == [fe.token_list.id("a"), 1, fe.token_list.id("b"), 1, 1]
    msg = " ".join(r.getMessage() for r in caplog.records)
    assert "utt42" in msg and "3 unknown" in msg and "'中' x2" in msg and "'文' x1" in msg


@pytest.mark.parametrize("token_type", ["char", "phn"])
def test_empty_text_after_cleaning_names_utterance(token_type):
    fe = build_frontend({"token_type": token_type})
    with pytest.raises(EmptyTextError, match="utt-empty-7"):
        fe.encode("   \u200b ", utt="utt-empty-7")


def test_bpe_trains_and_roundtrips(tmp_path):
    text = _write_text(tmp_path / "text", CORPUS)
    fe = make_token_list_main_run(tmp_path, text, "bpe", ["--nbpe", "60"])
    assert (tmp_path / "tl" / "bpe.model").is_file()
    assert len(fe.token_list) <= 60 + 1  # nbpe pieces minus sentencepiece's unk, plus 2
    for line in CORPUS + ["the art of printing books", "A new sentence about wood."]:
        ids = fe.text_to_ids(line)
        assert 1 not in ids
        assert fe.decode(ids) == fe.clean(line)
        assert len(ids) < len(fe.clean(line))  # pieces longer than characters
    # the front-end dir is self-contained: it works after a copy elsewhere
    shutil.copytree(tmp_path / "tl", tmp_path / "exp" / "frontend")
    shutil.rmtree(tmp_path / "tl")
    fe2 = Frontend.from_file(str(tmp_path / "exp" / "frontend" / "frontend.yaml"))
    assert fe2.encode(CORPUS[0]) == fe.encode(CORPUS[0])


def make_token_list_main_run(tmp_path, text, token_type, extra=()):
    out_dir = tmp_path / "tl"
    argv = ["--text", str(text), "--out_dir", str(out_dir), "--token_type", token_type, *extra]
    assert make_token_list_main.main(argv) == 0
    return Frontend.from_file(str(out_dir / "frontend.yaml"))


@pytest.mark.parametrize("token_type", ["char", "phn", "bpe"])
def test_same_ids_in_training_and_synthesis(tmp_path, token_type):
    conf = tmp_path / "train.yaml"
    conf.write_text("text:\n  token_type: char\n  add_blank: true\n  phn: {stress: false}\n")
    train = _write_text(tmp_path / "train_text", CORPUS)
    evalset = _write_text(tmp_path / "eval_text", CORPUS[::-1] + ["New words: zyxt 7%."], "ev")
    out_dir = tmp_path / "tl"
    argv = ["--config", str(conf), "--text", str(train), "--out_dir", str(out_dir)]
    argv += ["--token_type", token_type, "--nbpe", "60"]
    assert make_token_list_main.main(argv) == 0
    frontend_yaml = out_dir / "frontend.yaml"
    tokens = TokenList.load(out_dir / "tokens.txt")
    assert tokens.tokens[:2] == ["<blank>", "<unk>"]
    # training side: the token file (no blanks)
    dump = tmp_path / "dump" / "eval" / "token"
    assert tokenize_main.main(["--frontend", str(frontend_yaml), "--text", str(evalset),
                               "--out", str(dump)]) == 0  # fmt: skip
    stored = read_token_file(dump)
    # synthesis side: a fresh front-end loaded from the (copied) yaml
    fe = Frontend.from_file(str(frontend_yaml))
    assert fe.token_type == token_type and fe.add_blank
    assert fe.token_list == tokens
    if token_type == "phn":
        assert "AH" in tokens and "AH0" not in tokens  # the YAML's phn section applies
    # the training config's text section agrees with what stage 2 wrote ...
    text_conf = {"token_type": token_type, "add_blank": True, "phn": {"stress": False}}
    assert fe.differences(text_conf) == []
    # ... and a change after stage 2 is detected
    assert fe.differences({**text_conf, "add_blank": False}) == ["add_blank: False != True"]
    with open(evalset, encoding="utf-8") as f:
        for line in f:
            utt, text = line.rstrip("\n").split(" ", 1)
            assert intersperse(stored[utt], 0) == fe.encode(text, utt=utt)
            assert 0 not in stored[utt]  # no blanks in the token file


def test_tokenize_empty_utterance_fails_naming_it(tmp_path, capsys):
    fe_dir = tmp_path / "tl"
    build_frontend({"token_type": "char"}).save(str(fe_dir))
    text = tmp_path / "text"
    text.write_text("good Hello there.\nbad-utt-3 \n")
    out = tmp_path / "token"
    rc = tokenize_main.main(["--frontend", str(fe_dir), "--text", str(text), "--out", str(out)])
    assert rc == 1
    assert "bad-utt-3" in capsys.readouterr().err
    assert not out.exists()  # nothing partial is left behind


@pytest.mark.parametrize("add_blank", [False, True])
def test_tokenize_exp_prints_what_the_voice_reads(tmp_path, capsys, add_blank):
    """``glowtts-tokenize --exp`` prints the model's inputs: as many ids as --durations needs."""
    exp = tmp_path / "exp"
    fe = build_frontend({"token_type": "char"})
    fe.save(str(exp))
    (exp / "config.yaml").write_text(f"text:\n  add_blank: {str(add_blank).lower()}\n")
    assert tokenize_main.main(["--exp", str(exp), "--text", "Hi there."]) == 0
    lines = dict(ln.split(": ", 1) for ln in capsys.readouterr().out.splitlines())
    ids = [int(i) for i in lines["ids"].split()]
    want = fe.text_to_ids("Hi there.")
    assert ids == (intersperse(want, 0) if add_blank else want)
    assert int(lines["count"]) == len(ids)
    shown = [" " if t == tokenize_main.SPACE else t for t in lines["tokens"].split(" ")]
    assert shown == fe.token_list.tokens_of(ids)
    assert ("<blank>" in lines["tokens"]) == add_blank
    # speakers of the voice: one per line, or a note for a single-speaker voice
    assert tokenize_main.main(["--exp", str(exp), "--list_speakers"]) == 0
    assert capsys.readouterr().out.strip() == "(single speaker)"
    (exp / "spk_list.txt").write_text("p225\np226\n")
    assert tokenize_main.main(["--exp", str(exp), "--list_speakers"]) == 0
    assert capsys.readouterr().out.split() == ["p225", "p226"]


def test_tokenize_without_a_mode_is_a_clear_error(tmp_path, capsys):
    assert tokenize_main.main(["--text", "x"]) == 1
    assert "--frontend" in capsys.readouterr().err
