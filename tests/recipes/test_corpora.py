"""Corpus-specific recipe parts: LJSpeech download / data prep and the slt_mini corpus.

The data-prep tests run ``egs/ljspeech/tts1/local/data.sh`` on the ``ljspeech_mini`` corpus
(32 utterances) and on small broken copies of it (symlinks to its wavs). The slt_mini
tests synthesise 3 sentences with festival; they skip when festival, the slt voice or sox
is missing, unless ``GLOWTTS_REQUIRE_FESTIVAL=1`` makes that a failure.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import wave
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LJ_LOCAL = REPO / "egs" / "ljspeech" / "tts1" / "local"
SLT_LOCAL = REPO / "egs" / "slt_mini" / "tts1" / "local"
SETS = ("train", "dev", "eval")
FILES = ("wav.scp", "text", "utt2spk", "spk2utt")


def run(cmd: list[str | Path], **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHON=sys.executable)
    return subprocess.run(
        ["bash", *map(str, cmd)], capture_output=True, text=True, env=env, timeout=300, **kw
    )


def data_prep(db_root: Path | None, out: Path, *extra: str) -> subprocess.CompletedProcess:
    args = ["--db_root", db_root] if db_root is not None else []
    return run([LJ_LOCAL / "data.sh", *args, *extra, out])


def read_metadata(corpus: Path) -> list[list[str]]:
    lines = (corpus / "metadata.csv").read_text(encoding="utf-8").splitlines()
    return [line.split("|") for line in lines if line.strip()]


def read_kv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(" ")
        rows.append((key, value))
    return rows


def snapshot(data_dir: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data_dir)): p.read_bytes()
        for p in sorted(data_dir.rglob("*"))
        if p.is_file()
    }


def make_copy(src: Path, dst: Path, rows: list[str], drop_wavs: tuple[str, ...] = ()) -> Path:
    """A corpus in ``dst`` with the given metadata lines and symlinks to ``src``'s wavs
    for the ids they list, less ``drop_wavs``."""
    (dst / "wavs").mkdir(parents=True)
    for utt in {row.split("|")[0] for row in rows} - set(drop_wavs):
        (dst / "wavs" / f"{utt}.wav").symlink_to(src / "wavs" / f"{utt}.wav")
    (dst / "metadata.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return dst


def check_data_dirs(data: Path, spk: str, sets: tuple[str, ...] = SETS) -> dict[str, list[str]]:
    """Kaldi consistency of every set; returns the utterance ids of each set."""
    ids = {}
    for name in sets:
        d = data / name
        assert sorted(p.name for p in d.iterdir()) == sorted(FILES)
        keys = None
        for f in ("wav.scp", "text", "utt2spk"):
            rows = read_kv(d / f)
            k = [r[0] for r in rows]
            # Kaldi sorts in byte order (LC_ALL=C); str order is code-point order, the same.
            assert k == sorted(k) and len(set(k)) == len(k), f"{d / f} unsorted or duplicated"
            assert keys is None or k == keys, f"{d / f} lists other utterances than wav.scp"
            keys = k
        assert all(v == spk for _, v in read_kv(d / "utt2spk"))
        spk2utt = (d / "spk2utt").read_text().split("\n")
        assert spk2utt[-1] == "" and len(spk2utt) == 2
        assert spk2utt[0].split() == [spk, *keys]
        for utt, path in read_kv(d / "wav.scp"):
            assert os.path.isabs(path) and os.path.isfile(path) and Path(path).stem in utt
        ids[name] = keys
    return ids


# ---------------------------------------------------------------- ljspeech data prep


def test_ljspeech_mini_split(ljspeech_mini: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    res = data_prep(ljspeech_mini, out)
    assert res.returncode == 0, res.stderr
    meta = read_metadata(ljspeech_mini)
    order = [m[0] for m in meta]
    ids = check_data_dirs(out, "LJ")
    # 32 < 10 * (250 + 250): hold out max(1, 32 // 10) = 3 each, from the end of metadata order.
    assert [len(ids[s]) for s in SETS] == [26, 3, 3]
    assert ids["dev"] == order[26:29] and ids["eval"] == order[29:]
    every = ids["train"] + ids["dev"] + ids["eval"]
    assert sorted(every) == sorted(order) and len(set(every)) == len(order)
    # The raw column (not the normalised one) is the text, whitespace-collapsed.
    raw = {m[0]: " ".join(m[1].split()) for m in meta}
    for name in SETS:
        for utt, text in read_kv(out / name / "text"):
            assert text == raw[utt]
    wavs = dict(read_kv(out / "train" / "wav.scp"))
    assert Path(wavs[order[0]]).resolve() == (ljspeech_mini / "wavs" / f"{order[0]}.wav").resolve()


def test_ljspeech_large_corpus_split_sizes(ljspeech_mini: Path, tmp_path: Path) -> None:
    # 32 utterances >= 10 * (1 + 2): the requested sizes are used as given.
    out = tmp_path / "data"
    res = data_prep(ljspeech_mini, out, "--n_dev", "1", "--n_eval", "2")
    assert res.returncode == 0, res.stderr
    order = [m[0] for m in read_metadata(ljspeech_mini)]
    ids = check_data_dirs(out, "LJ")
    assert ids["dev"] == order[29:30] and ids["eval"] == order[30:]


def test_whole_set_and_slt_long_set(ljspeech_mini: Path, tmp_path: Path) -> None:
    # A corpus with long sentences in <db_root>/long: slt_mini's data prep splits the main
    # list as before and makes the long ones the one extra set eval_long, outside the split.
    rows = [line for line in (ljspeech_mini / "metadata.csv").read_text().splitlines() if line]
    corpus = make_copy(ljspeech_mini, tmp_path / "corpus", rows[:20])
    make_copy(ljspeech_mini, corpus / "long", rows[20:24])
    out = tmp_path / "data"
    res = run([SLT_LOCAL / "data.sh", "--db_root", corpus, out])
    assert res.returncode == 0, res.stderr
    ids = check_data_dirs(out, "SLT", (*SETS, "eval_long"))
    main_ids = [r.split("|")[0] for r in rows[:20]]
    assert [len(ids[s]) for s in SETS] == [16, 2, 2]
    # Kaldi ids start with the speaker: LJ ids get the SLT_ prefix.
    assert sorted(ids["train"] + ids["dev"] + ids["eval"]) == sorted(f"SLT_{u}" for u in main_ids)
    assert ids["eval_long"] == sorted(f"SLT_{r.split('|')[0]}" for r in rows[20:24])

    # Without long/ nothing but the split is written; --whole_set alone writes one set.
    res = run([SLT_LOCAL / "data.sh", "--db_root", ljspeech_mini, tmp_path / "d2"])
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in (tmp_path / "d2").iterdir()) == sorted(SETS)
    res = data_prep(corpus, tmp_path / "d3", "--whole_set", "all")
    assert res.returncode == 0, res.stderr
    assert check_data_dirs(tmp_path / "d3", "LJ", ("all",))["all"] == sorted(main_ids)
    assert sorted(p.name for p in (tmp_path / "d3").iterdir()) == ["all"]
    res = data_prep(corpus, tmp_path / "d4", "--whole_set", "a b")
    assert res.returncode != 0 and "not a valid set name" in res.stderr


def test_ljspeech_rerun_identical(ljspeech_mini: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    assert data_prep(ljspeech_mini, out).returncode == 0
    first = snapshot(out)
    (out / "train" / "stale_file").write_text("left over\n")
    res = data_prep(ljspeech_mini, out)
    assert res.returncode == 0, res.stderr
    assert snapshot(out) == first  # stale file gone, no temp dirs left, same bytes


def test_missing_db_root(tmp_path: Path) -> None:
    res = data_prep(None, tmp_path / "data")
    assert res.returncode != 0
    assert "--db_root is required" in res.stderr and "stage -1" in res.stderr
    assert not (tmp_path / "data").exists()


def test_missing_metadata(tmp_path: Path) -> None:
    (tmp_path / "corpus").mkdir()
    res = data_prep(tmp_path / "corpus", tmp_path / "data")
    assert res.returncode != 0
    assert str(tmp_path / "corpus" / "metadata.csv") in res.stderr
    assert "stage -1" in res.stderr and "--db_root" in res.stderr


@pytest.mark.parametrize("case", ["missing_wav", "duplicate_id", "empty_text"])
def test_bad_input(ljspeech_mini: Path, tmp_path: Path, case: str) -> None:
    original = ["|".join(m) for m in read_metadata(ljspeech_mini)][:6]
    ids = [m.split("|")[0] for m in original]
    meta = list(original)
    drop: tuple[str, ...] = ()
    if case == "missing_wav":
        drop = (ids[2],)
        expect = [ids[2], str(tmp_path / "corpus" / "wavs" / f"{ids[2]}.wav"), "does not exist"]
        keep = [i for i in ids if i != ids[2]]
    elif case == "duplicate_id":
        meta.append(f"{ids[1]}|another text|another text")
        expect = [f"duplicate utterance id {ids[1]}", "metadata.csv:7", "first at line 2"]
        keep = ids
    else:
        meta[3] = f"{ids[3]}| |"
        expect = [ids[3], "empty text", "metadata.csv:4"]
        keep = [i for i in ids if i != ids[3]]
    corpus = make_copy(ljspeech_mini, tmp_path / "corpus", meta, drop)

    # A good earlier run must survive a failing one untouched.
    out = tmp_path / "data"
    good = make_copy(ljspeech_mini, tmp_path / "good", original)
    assert data_prep(good, out).returncode == 0
    before = snapshot(out)
    res = data_prep(corpus, out)
    assert res.returncode != 0
    for piece in expect:
        assert piece in res.stderr, (piece, res.stderr)
    assert "--skip_bad true" in res.stderr
    assert snapshot(out) == before

    res = data_prep(corpus, out, "--skip_bad", "true")
    assert res.returncode == 0, res.stderr
    assert "skipping" in res.stderr and expect[0] in res.stderr
    got = check_data_dirs(out, "LJ")
    assert sorted(got["train"] + got["dev"] + got["eval"]) == sorted(keep)
    texts = {k: v for name in SETS for k, v in read_kv(out / name / "text")}
    assert texts[ids[1]] == " ".join(original[1].split("|")[1].split())  # first one wins


def test_too_few_utterances(ljspeech_mini: Path, tmp_path: Path) -> None:
    meta = ["|".join(m) for m in read_metadata(ljspeech_mini)][:2]
    corpus = make_copy(ljspeech_mini, tmp_path / "corpus", meta)
    res = data_prep(corpus, tmp_path / "data")
    assert res.returncode != 0 and "only 2 usable utterances" in res.stderr


# ---------------------------------------------------------------- ljspeech download


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is needed for file:// URLs")
def test_download_verify_unpack_idempotent(ljspeech_mini: Path, tmp_path: Path) -> None:
    src = tmp_path / "src" / "LJSpeech-1.1"
    make_copy(ljspeech_mini, src, ["|".join(m) for m in read_metadata(ljspeech_mini)][:2])
    tarball = tmp_path / "fake.tar.bz2"
    with tarfile.open(tarball, "w:bz2", dereference=True) as tar:
        tar.add(src, arcname="LJSpeech-1.1")
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    url = tarball.as_uri()
    dl = LJ_LOCAL / "download.sh"

    # The official checksum does not match the fake archive: refuse, keep nothing unpacked.
    res = run([dl, "--url", url, tmp_path / "bad"])
    assert res.returncode != 0 and "checksum mismatch" in res.stderr and digest in res.stderr
    assert not (tmp_path / "bad" / "LJSpeech-1.1").exists()

    res = run([dl, "--url", url, "--sha256", digest, tmp_path / "dl"])
    assert res.returncode == 0, res.stderr
    assert f"sha256 {digest}" in res.stdout
    got = tmp_path / "dl" / "LJSpeech-1.1"
    assert (got / "metadata.csv").read_bytes() == (src / "metadata.csv").read_bytes()
    assert sorted(p.name for p in (got / "wavs").iterdir()) == sorted(
        p.name for p in (src / "wavs").iterdir()
    )
    assert not (tmp_path / "dl" / "LJSpeech-1.1.tar.bz2").exists()  # removed by default

    # Second run: nothing to do, even with an unreachable URL.
    res = run([dl, "--url", f"http://127.0.0.1:{_free_port()}/x", tmp_path / "dl"])
    assert res.returncode == 0 and "already exists" in res.stdout


@pytest.mark.skipif(
    shutil.which("curl") is None and shutil.which("wget") is None, reason="no curl or wget"
)
def test_download_offline_message(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_free_port()}/LJSpeech-1.1.tar.bz2"
    res = run([LJ_LOCAL / "download.sh", "--url", url, tmp_path / "dl"])
    assert res.returncode != 0
    assert "could not download" in res.stderr and "offline" in res.stderr
    assert "--db_root" in res.stderr


# ---------------------------------------------------------------- slt_mini corpus


def test_sentence_list() -> None:
    lines = (SLT_LOCAL / "sentences.txt").read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) >= 300 and len(set(lines)) == len(lines)
    for i, s in enumerate(lines, start=1):
        assert 20 <= len(s) <= 200 and s == s.strip() and "|" not in s and "\t" not in s, i
    text = " ".join(lines)
    for needle in ("Dr.", "Mr.", "St.", "$", "%", "?", "!", ":", "1998"):
        assert needle in text, needle


def test_make_corpus_too_many_sentences(tmp_path: Path) -> None:
    n = len((SLT_LOCAL / "sentences.txt").read_text().splitlines())
    res = run(
        [
            SLT_LOCAL / "make_corpus.sh",
            "--n_sentences",
            str(n + 1),
            "--extend",
            "false",
            tmp_path / "c",
        ]
    )
    assert res.returncode != 0 and f"the maximum is {n}" in res.stderr


def _festival_or_skip() -> None:
    reason = None
    if not all(shutil.which(t) for t in ("text2wave", "sox", "soxi")):
        reason = "festival (text2wave) or sox not installed"
    else:
        # text2wave exits 0 even for an unknown voice: look at what it wrote.
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "probe.wav"
            probe = subprocess.run(
                ["text2wave", "-o", str(out), "-eval", "(voice_cmu_us_slt_arctic_hts)"],
                input=b"test\n",
                capture_output=True,
                timeout=60,
            )
            ok = out.is_file() and out.stat().st_size > 44 and b"SIOD ERROR" not in probe.stderr
        if not ok:
            reason = "festival voice cmu_us_slt_arctic_hts (festvox-us-slt-hts) not installed"
    if reason is None:
        return
    reason += "; apt-get install -y festival festvox-us-slt-hts sox"
    if os.environ.get("GLOWTTS_REQUIRE_FESTIVAL") == "1":
        pytest.fail(reason + " (GLOWTTS_REQUIRE_FESTIVAL=1 makes this an error)")
    pytest.skip(reason)


def test_slt_mini_corpus(tmp_path: Path) -> None:
    _festival_or_skip()
    corpus = tmp_path / "slt_mini"
    cmd = [SLT_LOCAL / "make_corpus.sh", "--n_sentences", "3", "--nj", "2"]
    # Stage -1's entry point: download.sh <dir> makes <dir>/slt_mini via make_corpus.sh.
    res = run([SLT_LOCAL / "download.sh", *cmd[1:], "--auto_install", "false", tmp_path])
    assert res.returncode == 0, res.stderr
    sentences = (SLT_LOCAL / "sentences.txt").read_text(encoding="utf-8").splitlines()[:3]
    meta = (corpus / "metadata.csv").read_text(encoding="utf-8").splitlines()
    ids = ["SLT0001", "SLT0002", "SLT0003"]
    assert meta == [f"{i}|{s}|{s}" for i, s in zip(ids, sentences)]
    for utt in ids:
        with wave.open(str(corpus / "wavs" / f"{utt}.wav")) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (22050, 1, 2)
            frames = w.readframes(w.getnframes())
        # At least half a second of audio, and not silence.
        assert len(frames) > 22050
        samples = memoryview(frames).cast("h")
        assert max(abs(x) for x in samples) > 1000
    wavs = {u: (corpus / "wavs" / f"{u}.wav").read_bytes() for u in ids}

    # Idempotent: a re-run synthesises nothing and leaves every byte as it was.
    res = run([*cmd, "--auto_install", "false", corpus])
    assert res.returncode == 0, res.stderr
    assert "0 synthesised, 3 reused" in res.stdout
    assert {u: (corpus / "wavs" / f"{u}.wav").read_bytes() for u in ids} == wavs

    # The LJSpeech data prep runs on it unchanged, through slt_mini's wrapper.
    res = run([SLT_LOCAL / "data.sh", "--db_root", corpus, tmp_path / "data"])
    assert res.returncode == 0, res.stderr
    got = check_data_dirs(tmp_path / "data", "SLT")
    assert got == {"train": ["SLT0001"], "dev": ["SLT0002"], "eval": ["SLT0003"]}
