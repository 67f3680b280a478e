"""One-file voices: glowtts-pack, and loading a package wherever an experiment dir goes."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
import torch
from conftest import make_exp

from glowtts.bin import export, pack, serve, synthesize
from glowtts.synthesis.loading import load_experiment
from glowtts.synthesis.package import (
    MANIFEST,
    WEIGHTS,
    PackageError,
    pack_experiment,
    read_package,
)
from glowtts.synthesis.synthesizer import Synthesizer

TEXT = "Hello there, packed voice."


@pytest.fixture(scope="module")
def packed(tmp_path_factory):
    """``(exp dir, its package)`` of a 3-speaker voice with a stage-7 report."""
    d = tmp_path_factory.mktemp("pack")
    exp = make_exp(d / "egs" / "tinyvoice" / "tts1" / "exp" / "tag", n_speakers=3, seed=3)
    report = {"sets": {"eval1": {"wer": {"all": {"synth": 0.25}}, "per_utt": {"u1": 1}}}}
    (exp / "report.json").write_text(json.dumps(report))
    (exp / "train.log").write_text(
        "2026-01-01 10:00:00,000 INFO [glowtts.train] start\n"
        "2026-01-01 11:30:00,500 INFO [glowtts.train] stop\n"
    )
    out = d / "tiny.glowtts"
    pack.main([str(exp), "--out", str(out), "--license", "CC-BY-4.0", "--author", "Tester"])
    return exp, out


def test_round_trip_gives_the_same_mel(packed):
    exp, pkg = packed
    a = Synthesizer.from_exp(exp)
    b = Synthesizer.from_pretrained(pkg)
    for spk in ("spk0", 2):
        mel = b.mel(TEXT, seed=7, spk=spk)
        assert mel.shape[0] > 0 and np.isfinite(mel).all()
        np.testing.assert_array_equal(a.mel(TEXT, seed=7, spk=spk), mel)
    assert not np.array_equal(b.mel(TEXT, seed=7, spk=0), b.mel(TEXT, seed=8, spk=0))
    assert b.speakers == ["spk0", "spk1", "spk2"]
    assert b.frontend.token_list.tokens == a.frontend.token_list.tokens
    # trainable works from a package too (the trainer's parametrisation is what is stored)
    src = load_experiment(exp, trainable=True)
    loaded = load_experiment(pkg, trainable=True)
    assert loaded.checkpoint == pkg and loaded.step == src.step
    for k, v in src.model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[k], v, rtol=0, atol=0)


def test_loading_a_package_never_unpickles(packed, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("torch.load called while loading a package")

    monkeypatch.setattr(torch, "load", refuse)
    assert load_experiment(packed[1]).model is not None


def test_model_card(packed):
    exp, pkg = packed
    with zipfile.ZipFile(pkg) as zf:
        names = set(zf.namelist())
        card = json.loads(zf.read("model_card.json"))
        md = zf.read("model_card.md").decode()
    assert {MANIFEST, WEIGHTS, "config.yaml", "frontend.yaml", "tokens.txt", "spk_list.txt",
            "model_card.md", "model_card.json"} <= names  # fmt: skip
    assert card["corpus"] == "tinyvoice" and card["steps"] == 0
    assert card["license"] == "CC-BY-4.0" and card["author"] == "Tester"
    assert card["training_time_seconds"] == pytest.approx(5400.5)
    assert card["evaluation"]["sets"]["eval1"]["wer"] == {"all": {"synth": 0.25}}
    assert "per_utt" not in card["evaluation"]["sets"]["eval1"]  # detail stays in the exp
    assert "CC-BY-4.0" in md and "0.25" in md and "1.50 h" in md


def test_entry_points_take_a_package(packed, tmp_path):
    _, pkg = packed
    wav = tmp_path / "a.wav"
    synthesize.main(["--model", str(pkg), "--text", TEXT, "--spk", "spk1", "--out", str(wav)])
    assert wav.stat().st_size > 44
    out = tmp_path / "m.pt"
    export.main(["--model", str(pkg), "--format", "torchscript", "--out", str(out)])
    meta = json.loads((tmp_path / "m.pt.json").read_text())
    assert meta["checkpoint"] == pkg.name and len(meta["tokens"]) > 2
    assert serve.get_parser().parse_args(["--model", str(pkg)]).exp == str(pkg)
    with pytest.raises(SystemExit, match=r"nope\.glowtts does not exist.*voice file"):
        synthesize.main(["--model", str(tmp_path / "nope.glowtts"), "--text", TEXT, "--out", "x"])
    with pytest.raises(SystemExit, match="--checkpoint does not apply"):
        export.main(["--model", str(pkg), "--checkpoint", "x.pth", "--out", str(out)])


def test_placeholders_and_bad_names(tmp_path, tiny_exp):
    with pytest.raises(SystemExit, match=r"must end in \.glowtts"):
        pack.main([str(tiny_exp), "--out", str(tmp_path / "v.zip")])
    pkg = pack_experiment(tiny_exp, tmp_path / "v.glowtts")
    with zipfile.ZipFile(pkg) as zf:
        card = json.loads(zf.read("model_card.json"))
    assert card["license"].startswith("FILL IN") and card["author"] == "FILL IN"
    assert card["evaluation"] is None and card["training_time_seconds"] is None


def _rewrite(src, dst, change):
    """Copy the zip ``src`` to ``dst`` with ``change(name, data) -> data | None`` applied
    (None drops the member)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            data = change(name, zin.read(name))
            if data is not None:
                zout.writestr(name, data)
    return dst


def test_truncated_foreign_and_tampered_files_are_named(packed, tmp_path):
    _, pkg = packed
    raw = pkg.read_bytes()
    cut = tmp_path / "cut.glowtts"
    cut.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(PackageError, match=r"cut\.glowtts: truncated or damaged"):
        read_package(cut)
    junk = tmp_path / "junk.glowtts"
    junk.write_bytes(b"RIFF....WAVEfmt " + bytes(100))
    with pytest.raises(PackageError, match="not a zip archive"):
        read_package(junk)
    foreign = tmp_path / "foreign.glowtts"
    with zipfile.ZipFile(foreign, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(PackageError, match=f"not a glowtts voice package \\(no {MANIFEST}\\)"):
        load_experiment(foreign)

    def flip(name, data):
        if name != WEIGHTS:
            return data
        data = bytearray(data)
        data[-1] ^= 1  # one bit of one weight
        return bytes(data)

    tampered = _rewrite(pkg, tmp_path / "tampered.glowtts", flip)
    with pytest.raises(PackageError, match=f"{WEIGHTS} does not match the sha256"):
        Synthesizer.from_pretrained(tampered)
    big = _rewrite(pkg, tmp_path / "big.glowtts", lambda n, d: d + b"\0" * 9 if n == WEIGHTS else d)
    with pytest.raises(PackageError, match=f"{WEIGHTS} is not the size"):
        read_package(big)
    extra = _rewrite(pkg, tmp_path / "extra.glowtts", lambda n, d: d)
    with zipfile.ZipFile(extra, "a") as zf:
        zf.writestr("evil.py", "print(1)")
    with pytest.raises(PackageError, match=r"unlisted \['evil.py'\]"):
        read_package(extra)


def _with_manifest(src, dst, edit):
    def change(name, data):
        if name != MANIFEST:
            return data
        manifest = json.loads(data)
        edit(manifest)
        return json.dumps(manifest)

    return _rewrite(src, dst, change)


def test_format_version_and_path_traversal(packed, tmp_path):
    _, pkg = packed
    newer = _with_manifest(pkg, tmp_path / "newer.glowtts", lambda m: m.update(format_version=99))
    with pytest.raises(PackageError, match="format 99 is newer .* upgrade glowtts"):
        read_package(newer)
    other = _with_manifest(pkg, tmp_path / "other.glowtts", lambda m: m.update(format="x"))
    with pytest.raises(PackageError, match="not a glowtts-voice manifest"):
        read_package(other)

    def traverse(m):
        m["files"]["../escaped.txt"] = m["files"].pop("tokens.txt")

    (tmp_path / "sub").mkdir()
    evil = _with_manifest(pkg, tmp_path / "sub" / "evil.glowtts", traverse)
    with zipfile.ZipFile(evil, "a") as zf:
        zf.writestr("../escaped.txt", "x")
    with pytest.raises(PackageError, match=r"refusing member '\.\./escaped\.txt'"):
        read_package(evil)
    assert not (tmp_path / "escaped.txt").exists()


def test_an_official_import_packs(tmp_path):
    """An experiment dir written by glowtts-import-official (official token type, CMU
    dictionary, blanks) packs and round-trips."""
    from official_anchor import anchor_dir, load_official

    from glowtts.convert.official import import_official
    from glowtts.text.official import OFFICIAL_SYMBOLS

    anchor = anchor_dir()
    models = load_official("models")["models"]
    conf = json.loads((anchor / "configs" / "base_blank.json").read_text())
    torch.manual_seed(0)
    theirs = models.FlowGenerator(
        len(OFFICIAL_SYMBOLS) + 1, out_channels=conf["data"]["n_mel_channels"], **conf["model"]
    ).eval()
    ckpt = tmp_path / "pretrained.pth"
    torch.save({"model": theirs.state_dict(), "iteration": 77}, ckpt)
    (tmp_path / "config.json").write_text(json.dumps(conf))
    exp = import_official(
        ckpt, tmp_path / "config.json", tmp_path / "exp", anchor / "data" / "cmu_dictionary"
    )
    pkg = pack_experiment(exp, tmp_path / "lj.glowtts", corpus="LJSpeech")
    with zipfile.ZipFile(pkg) as zf:
        assert "cmu_dictionary" in zf.namelist()
        assert json.loads(zf.read("model_card.json"))["steps"] == 77
    a, b = Synthesizer.from_exp(exp), Synthesizer.from_pretrained(pkg)
    text = "Dr. Smith paid $3.50."
    assert b.frontend.encode(text) == a.frontend.encode(text)
    np.testing.assert_array_equal(a.mel(text, seed=1), b.mel(text, seed=1))
