"""glowtts.data.datadir and the utils/*.sh wrappers around it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from glowtts.data.datadir import (
    DataDirError,
    copy_data_dir,
    fix_data_dir,
    read_scp,
    split_scp,
    subset_data_dir,
    utt2spk_to_spk2utt,
    validate_data_dir,
)

REPO = Path(__file__).resolve().parents[2]
UTILS = REPO / "utils"
UTTS = ["a1", "a2", "b1", "b2", "b3"]


def _make(d: Path, utts=UTTS) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "wav.scp").write_text("".join(f"{u} /w/{u}.wav\n" for u in utts))
    (d / "text").write_text("".join(f"{u} hello {u}\n" for u in utts))
    (d / "utt2spk").write_text("".join(f"{u} spk{u[0]}\n" for u in utts))
    spk2utt = utt2spk_to_spk2utt({u: f"spk{u[0]}" for u in utts})
    (d / "spk2utt").write_text("".join(f"{s} {' '.join(v)}\n" for s, v in spk2utt.items()))
    return d


def _sh(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{REPO / 'tools' / 'venv' / 'bin'}:{os.environ['PATH']}")
    return subprocess.run(list(args), capture_output=True, text=True, cwd=cwd, env=env)


def test_valid_dir(tmp_path) -> None:
    d = _make(tmp_path / "train")
    assert validate_data_dir(d) == UTTS
    assert (d / "spk2utt").read_text() == "spka a1 a2\nspkb b1 b2 b3\n"


@pytest.mark.parametrize(
    "mutate,expect",
    [
        (
            lambda d: (d / "text").write_text("a1 x\na2 x\nb2 x\nb1 x\nb3 x\n"),
            r"text: line 4: not sorted",
        ),
        (
            lambda d: (d / "text").write_text("a1 x\na1 y\na2 x\nb1 x\nb2 x\nb3 x\n"),
            r"text: line 2: duplicate key 'a1'",
        ),
        (
            lambda d: (d / "text").write_text("a1 x\na2\nb1 x\nb2 x\nb3 x\n"),
            r"text: line 2: 'a2' has empty text",
        ),
        (
            lambda d: (d / "wav.scp").write_text("a1 p\na2 p\nb1 p\nb2 p\n"),
            r"wav.scp and utt2spk .*only in utt2spk \(e.g. 'b3'\)",
        ),
        (
            lambda d: (d / "spk2utt").unlink(),
            r"missing required file\(s\): spk2utt.*utt2spk_to_spk2utt.sh",
        ),
        (
            lambda d: (d / "spk2utt").write_text("spka a1\nspkb b1 b2 b3\n"),
            r"spk2utt does not match",
        ),
    ],
)
def test_validate_errors_name_file_line_and_fix(tmp_path, mutate, expect) -> None:
    d = _make(tmp_path / "train")
    mutate(d)
    with pytest.raises(DataDirError, match=expect) as e:
        validate_data_dir(d)
    if "spk2utt" not in expect:
        assert f"utils/fix_data_dir.sh {d}" in str(e.value)


def test_fix_makes_valid_and_backs_up(tmp_path) -> None:
    d = _make(tmp_path / "train")
    (d / "text").write_text("b2 x\na1 x\na2\nb1 y\nb1 z\nb3 x\nzz extra\n")
    (d / "wav.scp").write_text("a1 p\na2 p\nb1 p\nb3 p\nb2 p\n")
    kept, before = fix_data_dir(d)
    assert (kept, before) == (4, 5)
    assert validate_data_dir(d) == ["a1", "b1", "b2", "b3"]
    assert read_scp(d / "text")["b1"] == "y"
    removed = (d / ".backup" / "text.removed").read_text()
    assert "a2" in removed and "b1 z" in removed and "zz extra" in removed
    assert (d / ".backup" / "wav.scp").read_text().startswith("a1 p\na2 p")
    assert (d / "spk2utt").read_text() == "spka a1\nspkb b1 b2 b3\n"


def test_second_fix_keeps_first_originals(tmp_path) -> None:
    """A second fix_data_dir.sh must not overwrite the .backup/ originals of the first."""
    d = _make(tmp_path / "train")
    (d / "text").write_text("a1 x\na2 x\nb1 x\nb2\nb3 x\n")  # b2: empty text
    first = (d / "text").read_text()
    r = _sh(str(UTILS / "fix_data_dir.sh"), "train", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "train/.backup" in r.stderr
    assert (d / ".backup" / "text").read_text() == first
    (d / "text").write_text((d / "text").read_text().replace("a1 x", "a1"))  # a1 now empty
    second = (d / "text").read_text()
    r = _sh(str(UTILS / "fix_data_dir.sh"), "train", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "train/.backup.1" in r.stderr
    assert (d / ".backup" / "text").read_text() == first  # the first originals survive
    assert "b2" in (d / ".backup" / "text.removed").read_text()
    assert (d / ".backup.1" / "text").read_text() == second
    assert (d / ".backup.1" / "text.removed").read_text().split() == ["a1"]
    fix_data_dir(d)  # a third run (nothing to remove) takes the next free number
    assert (d / ".backup.2" / "text").is_file()
    assert (d / ".backup" / "text").read_text() == first
    assert validate_data_dir(d) == ["a2", "b1", "b3"]


def test_subset_and_copy(tmp_path) -> None:
    src = _make(tmp_path / "train")
    assert subset_data_dir(src, tmp_path / "first", first=2) == ["a1", "a2"]
    assert subset_data_dir(src, tmp_path / "last", last=2) == ["b2", "b3"]
    assert len(subset_data_dir(src, tmp_path / "num", num=3)) == 3
    ul = tmp_path / "list"
    ul.write_text("b3\na2\nnope\n")
    assert subset_data_dir(src, tmp_path / "ul", utt_list=ul) == ["a2", "b3"]
    for name in ("first", "last", "num", "ul"):
        validate_data_dir(tmp_path / name)
    assert (tmp_path / "ul" / "spk2utt").read_text() == "spka a2\nspkb b3\n"
    copy_data_dir(src, tmp_path / "cp", utt_prefix="x-", spk_prefix="x-")
    assert validate_data_dir(tmp_path / "cp")[0] == "x-a1"
    assert read_scp(tmp_path / "cp" / "utt2spk")["x-b1"] == "x-spkb"


def test_split_scp_more_parts_than_lines(tmp_path) -> None:
    src = tmp_path / "in.scp"
    src.write_text("u1 a\nu2 b\nu3 c\n")
    outs = [tmp_path / f"out.{i}.scp" for i in range(1, 6)]
    assert split_scp(src, outs) == [1, 1, 1, 0, 0]
    assert "".join(p.read_text() for p in outs) == src.read_text()
    src.write_text("".join(f"u{i} x\n" for i in range(10)))
    assert split_scp(src, outs[:3]) == [4, 3, 3]
    assert "".join(p.read_text() for p in outs[:3]) == src.read_text()


def test_shell_wrappers(tmp_path) -> None:
    d = _make(tmp_path / "train")
    r = _sh(str(UTILS / "validate_data_dir.sh"), "train", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (d / "text").write_text("a2 x\na1 x\nb1 x\nb2 x\nb3 x\n")
    r = _sh(str(UTILS / "validate_data_dir.sh"), "train", cwd=tmp_path)
    assert r.returncode == 1 and "train/text: line 2: not sorted" in r.stderr
    assert "utils/fix_data_dir.sh train" in r.stderr
    assert _sh(str(UTILS / "fix_data_dir.sh"), "train", cwd=tmp_path).returncode == 0
    assert _sh(str(UTILS / "validate_data_dir.sh"), "train", cwd=tmp_path).returncode == 0
    r = _sh(str(UTILS / "subset_data_dir.sh"), "--first", "train", "3", "sub", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert list(read_scp(tmp_path / "sub" / "text")) == ["a1", "a2", "b1"]
    r = _sh(str(UTILS / "utt2spk_to_spk2utt.sh"), "train/utt2spk", cwd=tmp_path)
    assert r.stdout == "spka a1 a2\nspkb b1 b2 b3\n"
    r = _sh(str(UTILS / "split_scp.sh"), "train/wav.scp", "w.1", "w.2", cwd=tmp_path)
    assert r.returncode == 0
    assert len((tmp_path / "w.1").read_text().splitlines()) == 3
    r = _sh(str(UTILS / "copy_data_dir.sh"), "--utt-prefix", "p_", "train", "cp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert list(read_scp(tmp_path / "cp" / "text"))[0] == "p_a1"
