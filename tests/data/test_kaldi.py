"""glowtts.data.kaldi: the one Kaldi table reader/writer and atomic write."""

from __future__ import annotations

import random

import pytest

from glowtts.data import kaldi
from glowtts.data.kaldi import DataDirError, TableNotFoundError


def _random_table(rng: random.Random, n: int) -> dict[str, str]:
    alphabet = "abcXYZ019_-.é"
    keys = {"".join(rng.choices(alphabet, k=rng.randint(1, 6))) for _ in range(n)}
    return {
        k: " ".join(
            "".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(rng.randint(1, 4))
        )
        for k in keys
    }


@pytest.mark.parametrize("seed", range(5))
def test_round_trip_sorted_in_c_order(tmp_path, seed) -> None:
    table = _random_table(random.Random(seed), 40)
    p = tmp_path / "sub" / "t.scp"
    kaldi.write_table(p, table)
    back = kaldi.read_table(p)
    assert back == table
    assert list(back) == sorted(table, key=lambda k: k.encode("utf-8")) == kaldi.c_sorted(table)
    fields = kaldi.read_fields(p)
    assert fields == {k: v.split() for k, v in table.items()}
    assert dict(kaldi.iter_fields(p)) == fields
    # unsorted writing keeps the given order
    order = list(table)
    random.Random(seed).shuffle(order)
    kaldi.write_table(p, [(k, table[k]) for k in order], sort=False)
    assert list(kaldi.read_table(p)) == order


def test_whitespace_blank_lines_and_list_values(tmp_path) -> None:
    p = tmp_path / "t"
    p.write_text("\n  a   x  y \t\n\n\tb\tz\r\nc\n", encoding="utf-8")
    assert list(kaldi.read_lines(p)) == [(2, "a", "x  y"), (4, "b", "z"), (5, "c", "")]
    assert kaldi.read_table(p, allow_empty_value=True) == {"a": "x  y", "b": "z", "c": ""}
    kaldi.write_table(p, {"u2": [3, 4], "u1": ("p",), "e": ""})
    assert p.read_text() == "e\nu1 p\nu2 3 4\n"
    assert kaldi.read_fields(p) == {"e": [], "u1": ["p"], "u2": ["3", "4"]}


def test_errors_name_file_and_line(tmp_path) -> None:
    p = tmp_path / "utt2spk"
    p.write_text("a s1\nb s2\n\na s3\n")
    with pytest.raises(DataDirError, match=r"utt2spk: line 4: key 'a' repeats line 1; fix it"):
        kaldi.read_table(p, hint="; fix it")
    with pytest.raises(DataDirError, match=r"utt2spk: line 4: key 'a' repeats line 1"):
        kaldi.read_fields(p)
    p.write_text("a s1\nb\n")
    with pytest.raises(DataDirError, match=r"utt2spk: line 2: key 'b' has no value"):
        kaldi.read_table(p)
    with pytest.raises(DataDirError, match=r"utt2spk: line 2: expected 'key' \+ 1 field"):
        kaldi.read_fields(p, n_fields=1)
    p.write_text("a 1 2\nb 3 x\n")
    with pytest.raises(DataDirError, match=r"utt2spk: line 2: key 'b': .*'x'"):
        kaldi.read_int_table(p)
    assert isinstance(DataDirError("x"), ValueError)


def test_missing_file_is_both_error_kinds(tmp_path) -> None:
    for reader in (kaldi.read_table, kaldi.read_fields, kaldi.read_int_table):
        with pytest.raises(TableNotFoundError, match="does not exist") as e:
            reader(tmp_path / "nope")
        assert isinstance(e.value, FileNotFoundError) and isinstance(e.value, DataDirError)
    with pytest.raises(FileNotFoundError):
        kaldi.read_table(tmp_path)  # a directory


def test_tolerant_keeps_first_and_reports_dropped(tmp_path) -> None:
    p = tmp_path / "text"
    p.write_text("b2 x\na1 x\na2\nb1 y\nb1 z\nb3 x\n")
    dropped: list[str] = []
    got = kaldi.read_table(p, tolerant=True, dropped=dropped)
    assert got == {"b2": "x", "a1": "x", "b1": "y", "b3": "x"}
    assert dropped == ["a2", "b1 z"]
    dropped.clear()
    got = kaldi.read_table(p, tolerant=True, allow_empty_value=True, dropped=dropped)
    assert got["a2"] == "" and dropped == ["b1 z"]


def test_read_int_table(tmp_path) -> None:
    p = tmp_path / "token"
    p.write_text("u1 3 4 5\nu2\nu3 -1\n")
    assert kaldi.read_int_table(p) == {"u1": [3, 4, 5], "u2": [], "u3": [-1]}
    with pytest.raises(DataDirError, match="line 2: expected 'key' \\+ 3 field\\(s\\), got 'u2'"):
        kaldi.read_int_table(p, n_fields=3)


def test_utt2spk_to_spk2utt_inverts() -> None:
    rng = random.Random(0)
    utt2spk = {f"u{i}": f"s{rng.randint(0, 3)}" for i in range(30)}
    spk2utt = kaldi.utt2spk_to_spk2utt(utt2spk)
    assert list(spk2utt) == kaldi.c_sorted(spk2utt)
    assert {u: s for s, us in spk2utt.items() for u in us} == utt2spk
    for us in spk2utt.values():
        assert us == kaldi.c_sorted(us)


def test_atomic_write_replaces_or_keeps_old(tmp_path) -> None:
    p = tmp_path / "f.txt"
    kaldi.atomic_write_text(p, "old\n")
    kaldi.atomic_write_text(p, "new é\n")
    assert p.read_text(encoding="utf-8") == "new é\n"
    kaldi.atomic_write_bytes(p, b"\x00\x01")
    assert p.read_bytes() == b"\x00\x01"
    with pytest.raises(RuntimeError, match="boom"):
        with kaldi.atomic_open(p, "w") as f:
            f.write("half")
            raise RuntimeError("boom")
    assert p.read_bytes() == b"\x00\x01"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["f.txt"]  # no temp file left
    with pytest.raises(ValueError, match="mode"):
        with kaldi.atomic_open(p, "a"):
            pass


# ---------------------------------------------------------------- FeatsReader: numbers only


def _write_ark(tmp_path, mats: dict) -> tuple:
    import kaldiio

    ark, scp = tmp_path / "feats.ark", tmp_path / "feats.scp"
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}") as w:
        for k, m in mats.items():
            w(k, m)
    return ark, scp


def test_feats_reader_loads_float_matrices_like_kaldiio(tmp_path) -> None:
    import kaldiio
    import numpy as np

    rng = np.random.default_rng(0)
    mats = {f"u{i}": rng.normal(size=(5 + i, 3)).astype(np.float32) for i in range(4)}
    mats["u9"] = rng.normal(size=(2, 3))  # float64 is numeric too
    _, scp = _write_ark(tmp_path, mats)
    reader = kaldi.FeatsReader(scp)
    assert list(reader) == list(mats) and len(reader) == len(mats)
    ref = kaldiio.load_scp(str(scp))
    for k, m in mats.items():
        got = reader[k]
        assert got.dtype == m.dtype and np.array_equal(got, m) and np.array_equal(got, ref[k])
    seq = dict(reader.iter_items())
    assert list(seq) == list(mats)
    assert all(np.array_equal(seq[k], m) for k, m in mats.items())
    # a range suffix (kaldiio's ark:offset[rows]) reads the same rows
    (tmp_path / "r.scp").write_text(f"u1 {reader.spec('u1')}[1:2]\n")
    assert np.array_equal(kaldi.FeatsReader(tmp_path / "r.scp")["u1"], mats["u1"][1:3])


def test_feats_reader_refuses_pipe_without_running_it(tmp_path) -> None:
    import numpy as np

    _, scp = _write_ark(tmp_path, {"u1": np.zeros((2, 3), np.float32)})
    flag = tmp_path / "PIPE_RAN"
    with open(scp, "a") as f:
        f.write(f"u2 touch {flag} |\n")
    with pytest.raises(DataDirError, match=r"feats.scp: line 2: utterance 'u2' is a command") as e:
        kaldi.FeatsReader(scp)
    assert "allow_pipes=True" in str(e.value)
    assert not flag.exists()
    # a leading pipe is a command too
    scp.write_text(f"u3 | touch {flag}\n")
    with pytest.raises(DataDirError, match="allow_pipes"):
        kaldi.FeatsReader(scp)
    assert not flag.exists()
    # opting in runs it (the explicit, trusted case)
    reader = kaldi.FeatsReader(scp, allow_pipes=True)
    with pytest.raises(Exception):  # noqa: B017 - touch writes no matrix; it only must run
        reader["u3"]
    assert flag.exists()


class _Evil:
    """Unpickling this creates the file named in it."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _write_pickle_record(tmp_path, name: str, obj) -> tuple:
    import pickle

    ark, scp = tmp_path / f"{name}.ark", tmp_path / f"{name}.scp"
    head = f"{name} ".encode()
    ark.write_bytes(head + b"PKL" + pickle.dumps(obj))
    scp.write_text(f"{name} {ark}:{len(head)}\n")
    return ark, scp


def test_feats_reader_refuses_pickled_record_without_unpickling(tmp_path) -> None:
    import kaldiio
    import numpy as np

    flag = tmp_path / "UNPICKLED"
    _, scp = _write_pickle_record(tmp_path, "evil", _Evil(str(flag)))
    reader = kaldi.FeatsReader(scp)  # the scp itself is well formed
    with pytest.raises(DataDirError, match=r"evil.scp: line 1: utterance 'evil' .*pickled") as e:
        reader["evil"]
    assert "allow_pickle=True" in str(e.value)
    with pytest.raises(DataDirError, match="pickled"):
        list(reader.iter_items())
    assert not flag.exists()
    # kaldiio's own pickle writer is refused the same way; opting in reads it
    ark, scp2 = tmp_path / "k.ark", tmp_path / "k.scp"
    m = np.ones((2, 3), np.float32)
    kaldiio.save_ark(str(ark), {"k": m}, scp=str(scp2), write_function="pickle")
    with pytest.raises(DataDirError, match="pickled"):
        kaldi.FeatsReader(scp2)["k"]
    assert np.array_equal(kaldi.FeatsReader(scp2, allow_pickle=True)["k"], m)


def test_feats_reader_refuses_audio_records_and_bad_lines(tmp_path) -> None:
    import numpy as np

    ark = tmp_path / "a.ark"
    ark.write_bytes(b"w RIFF....WAVEfmt ")
    (tmp_path / "a.scp").write_text(f"w {ark}:2\n")
    with pytest.raises(DataDirError, match="line 1: utterance 'w' .*not a numeric matrix"):
        kaldi.FeatsReader(tmp_path / "a.scp")["w"]
    _, scp = _write_ark(tmp_path, {"u1": np.zeros((2, 3), np.float32)})
    good = scp.read_text()
    scp.write_text(good + "u1 x.ark:3\n")
    with pytest.raises(DataDirError, match="line 2: key 'u1' repeats line 1"):
        kaldi.FeatsReader(scp)
    scp.write_text(good + "u2 a b\n")
    with pytest.raises(DataDirError, match="line 2: expected 'key' \\+ 1 field"):
        kaldi.FeatsReader(scp)


def test_compute_stats_cli_refuses_pipes_and_pickles_unless_opted_in(tmp_path, capsys) -> None:
    """glowtts-compute-stats reads features through FeatsReader; --allow_* opt in."""
    import kaldiio
    import numpy as np

    from glowtts.bin.compute_stats import main

    m = np.arange(12, dtype=np.float32).reshape(4, 3)
    kaldiio.save_mat(str(tmp_path / "m.mat"), m)
    pipe_scp = tmp_path / "pipe.scp"
    pipe_scp.write_text(f"u1 cat {tmp_path / 'm.mat'} |\n")
    pkl_ark, pkl_scp = tmp_path / "p.ark", tmp_path / "p.scp"
    kaldiio.save_ark(str(pkl_ark), {"u1": m}, scp=str(pkl_scp), write_function="pickle")
    for scp, flag, what in ((pipe_scp, "--allow_pipes", "is a command"),
                            (pkl_scp, "--allow_pickle", "pickled")):  # fmt: skip
        out = tmp_path / f"{scp.stem}_stats.npy"
        assert main(["--feats_scp", str(scp), "--out", str(out), "--no_progress"]) == 1
        err = capsys.readouterr().err
        assert f"{scp}: line 1: utterance 'u1'" in err and what in err and flag in err
        assert not out.exists()
        assert main(["--feats_scp", str(scp), "--out", str(out), "--no_progress", flag]) == 0
        stats = np.load(out)
        assert np.allclose(stats[0], m.mean(0)) and np.allclose(stats[1], m.std(0))
