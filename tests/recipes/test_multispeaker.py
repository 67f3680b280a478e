"""Multi-speaker Glow-TTS: speaker ids from utt2spk through training, decoding and synthesis.

- VCTK data prep (``egs/vctk/tts1/local``) on a fake VCTK-Corpus-0.92 layout made in
  tmp_path (a few 48 kHz FLAC files), and its download script on a local fake zip.
- A tiny two-speaker model trained a few steps on synthetic dump dirs with ``utt2spk``;
  decoding the same tokens as two speakers gives two different mels.
- The embedded two-voice recipe ``egs/slt_kal_mini/tts1`` (Festival slt + kal), stages
  -1..5 with a tiny config; the Synthesizer then reads the same text as both speakers.
  It skips when festival, its voices or sox are missing, unless
  ``GLOWTTS_REQUIRE_FESTIVAL=1`` makes that a failure.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import string
import subprocess
import sys
import zipfile
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import tinytts
import torch
import yaml

from glowtts.audio.io import load_wav
from glowtts.bin.decode import main as decode_main
from glowtts.bin.train import main as train_main
from glowtts.data.datadir import validate_data_dir
from glowtts.synthesis.loading import load_experiment
from glowtts.text.frontend import Frontend

REPO = Path(__file__).resolve().parents[2]
VCTK_LOCAL = REPO / "egs" / "vctk" / "tts1" / "local"

SETS = ("train", "dev", "eval")


def _bash(cmd: list, **kw) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        ["bash", *map(str, cmd)], capture_output=True, text=True, env=env, timeout=600, **kw
    )


def _kv(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(" ")
        out[key] = value
    return out


# ------------------------------------------------------------------ VCTK data prep


def _fake_vctk(root: Path) -> Path:
    """A VCTK-Corpus-0.92 layout: p225 (6 utts, both mics), p226 (6 texts, 006 lacks mic1),
    p315 (recordings, no txt/ at all), speaker-info.txt. FLAC: 0.1 s at 48 kHz."""
    rng = np.random.default_rng(0)
    texts = {
        "p225": [f"Please call Stella number {i}." for i in range(1, 7)],
        "p226": [f"Ask her to bring these things  {i}.\n" for i in range(1, 7)],
        "p315": None,
    }
    for spk, lines in texts.items():
        wdir = root / "wav48_silence_trimmed" / spk
        wdir.mkdir(parents=True)
        for i in range(1, 7):
            utt = f"{spk}_{i:03d}"
            for mic in ("mic1", "mic2"):
                if (spk, i, mic) == ("p226", 6, "mic1"):
                    continue
                audio = 0.1 * rng.standard_normal(4800).astype(np.float32)
                sf.write(wdir / f"{utt}_{mic}.flac", audio, 48000, subtype="PCM_16")
            if lines is not None:
                tdir = root / "txt" / spk
                tdir.mkdir(parents=True, exist_ok=True)
                (tdir / f"{utt}.txt").write_text(lines[i - 1] + "\n", encoding="utf-8")
    (root / "speaker-info.txt").write_text(
        "ID  AGE  GENDER  ACCENTS  REGION COMMENTS\n"
        "p225  23  F    English    Southern  England\n"
        "p226  22  M    English    Surrey\n"
        "p315  18  M    American    Connecticut\n",
        encoding="utf-8",
    )
    return root


def test_vctk_data_prep_on_fake_layout(tmp_path: Path):
    db = _fake_vctk(tmp_path / "VCTK-Corpus-0.92")
    out = tmp_path / "data"
    proc = _bash([VCTK_LOCAL / "data.sh", "--db_root", db, "--n_dev", "1", "--n_eval", "1", out])
    assert proc.returncode == 0, proc.stderr
    # corpus holes are skipped with a reason, not errors
    assert "p315" in proc.stderr and "no transcripts" in proc.stderr
    assert "p226_006" in proc.stderr and "mic1" in proc.stderr

    sets = {s: _kv(out / s / "text") for s in SETS}
    # per speaker, sorted by id: the last one is eval, the one before dev, the rest train
    assert list(sets["eval"]) == ["p225_006", "p226_005"]
    assert list(sets["dev"]) == ["p225_005", "p226_004"]
    assert list(sets["train"]) == [f"p225_{i:03d}" for i in range(1, 5)] + [
        f"p226_{i:03d}" for i in range(1, 4)
    ]
    assert sets["train"]["p226_001"] == "Ask her to bring these things 1."  # one line, squeezed
    for s in SETS:
        validate_data_dir(out / s)  # sorted, consistent, speaker-prefixed ids
        utt2spk = _kv(out / s / "utt2spk")
        assert all(spk == utt.split("_")[0] for utt, spk in utt2spk.items())
        assert _kv(out / s / "spk2gender") == {"p225": "f", "p226": "m"}
        spk2utt = _kv(out / s / "spk2utt")
        assert sorted(u for v in spk2utt.values() for u in v.split()) == sorted(utt2spk)

    # wav.scp: sox pipes that resample the 48 kHz FLAC of mic1 to 22050 Hz
    scp = _kv(out / "train" / "wav.scp")
    entry = scp["p225_001"]
    assert entry.startswith("sox ") and entry.endswith("|")
    assert "p225_001_mic1.flac" in entry and "-r 22050" in entry
    if shutil.which("sox"):
        wav = load_wav(entry, expected_fs=22050)  # a wrong rate would raise
        assert abs(len(wav) - 2205) <= 2

    # --mic mic2: p226_006 exists on mic2, so it becomes p226's eval utterance
    out2 = tmp_path / "data_mic2"
    proc = _bash([VCTK_LOCAL / "data.sh", "--db_root", db, "--mic", "mic2", "--n_dev", "1",
                  "--n_eval", "1", "--speakers", "p226", out2])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert list(_kv(out2 / "eval" / "text")) == ["p226_006"]
    assert "_mic2.flac" in _kv(out2 / "eval" / "wav.scp")["p226_006"]


def test_vctk_data_prep_bad_input(tmp_path: Path):
    db = _fake_vctk(tmp_path / "VCTK-Corpus-0.92")
    (db / "txt" / "p225" / "p225_003.txt").write_text("  \n")
    out = tmp_path / "data"
    proc = _bash([VCTK_LOCAL / "data.sh", "--db_root", db, "--n_dev", "1", "--n_eval", "1", out])
    assert proc.returncode != 0
    assert "p225_003.txt: empty transcript" in proc.stderr and "--skip_bad" in proc.stderr
    assert not out.exists() or not any(out.iterdir())  # nothing written
    proc = _bash([VCTK_LOCAL / "data.sh", "--db_root", db, "--n_dev", "1", "--n_eval", "1",
                  "--skip_bad", "true", out])  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "p225_003" not in _kv(out / "train" / "text")
    # not a VCTK dir at all: the error names the expected layout
    proc = _bash([VCTK_LOCAL / "data.sh", "--db_root", tmp_path, out])
    assert proc.returncode != 0 and "wav48_silence_trimmed" in proc.stderr


def test_vctk_download_unpacks_verified_zip(tmp_path: Path):
    if not shutil.which("curl") and not shutil.which("wget"):
        pytest.skip("neither curl nor wget installed")
    if shutil.which("curl") is None:
        pytest.skip("the file:// test URL needs curl (wget has no file:// support)")
    # The official zip holds the corpus files at its top level.
    src = _fake_vctk(tmp_path / "src")
    archive = tmp_path / "VCTK-Corpus-0.92.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in sorted(src.rglob("*")):
            z.write(p, p.relative_to(src))
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    url = archive.as_uri()

    bad = _bash([VCTK_LOCAL / "download.sh", "--url", url, "--sha256", "0" * 64, tmp_path / "d1"])
    assert bad.returncode != 0 and "checksum mismatch" in bad.stderr
    assert not (tmp_path / "d1" / "VCTK-Corpus-0.92").exists()

    dl = tmp_path / "d2"
    ok = _bash([VCTK_LOCAL / "download.sh", "--url", url, "--sha256", digest, dl])
    assert ok.returncode == 0, ok.stderr
    corpus = dl / "VCTK-Corpus-0.92"
    assert (corpus / "txt" / "p225" / "p225_001.txt").is_file()
    assert (corpus / "wav48_silence_trimmed" / "p225" / "p225_001_mic1.flac").is_file()
    assert not (dl / "VCTK-Corpus-0.92.zip").exists()  # removed unless --keep_archive
    again = _bash([VCTK_LOCAL / "download.sh", "--url", url, "--sha256", digest, dl])
    assert again.returncode == 0 and "already exists" in again.stdout


# ------------------------------------------------------------------ model (no festival)


def _two_speaker_dump(d: Path, n_per_spk: int, seed: int) -> None:
    """Synthetic dump dir whose utterances belong to speakers spkA and spkB (utt2spk)."""
    utts = tinytts.write_dump(d, 2 * n_per_spk, seed=seed, prefix="utt")
    # Kaldi convention: ids start with the speaker; rename utt000k -> spkX-utt000k.
    spk = {u: ("spkA" if i % 2 == 0 else "spkB") for i, u in enumerate(utts)}
    for name in ("feats.scp", "token", "utt2num_frames"):
        lines = (d / name).read_text().splitlines()
        renamed = [f"{spk[ln.split()[0]]}-{ln}" for ln in lines]
        (d / name).write_text("\n".join(sorted(renamed)) + "\n")
    (d / "utt2spk").write_text("".join(sorted(f"{spk[u]}-{u} {spk[u]}\n" for u in utts)))


def test_two_speaker_model_trains_and_speakers_differ(tmp_path: Path):
    _two_speaker_dump(tmp_path / "dump/train", 6, seed=1)
    _two_speaker_dump(tmp_path / "dump/dev", 2, seed=2)
    tl = tinytts.write_token_list(tmp_path / "token_list/char/tokens.txt")
    model = {**tinytts.TINY_MODEL, "n_speakers": 2, "gin_channels": 8}
    cfg = tinytts.write_config(tmp_path / "c.yaml", tinytts.base_train(max_steps=4), model)
    exp = tmp_path / "exp"
    args = ["--config", cfg, "--train_dir", tmp_path / "dump/train", "--dev_dir",
            tmp_path / "dump/dev", "--token_list", tl, "--exp_dir", exp, "--device", "cpu"]  # fmt: skip
    assert train_main([str(a) for a in args]) == 0
    assert (exp / "spk_list.txt").read_text().split() == ["spkA", "spkB"]
    assert yaml.safe_load((exp / "config.yaml").read_text())["n_speakers"] == 2

    net = load_experiment(exp).model
    tokens = torch.tensor([[3, 5, 7, 2, 9]])
    lengths = torch.tensor([5])
    outs = [
        net.inference(tokens, lengths, noise_scale=0.0, spk=torch.tensor([s]))["mel"]
        for s in (0, 1, 0)
    ]
    assert torch.equal(outs[0], outs[2])  # deterministic at noise 0 ...
    assert outs[0].shape != outs[1].shape or not torch.allclose(outs[0], outs[1])  # ... per speaker
    with pytest.raises(ValueError, match="multi-speaker"):
        net.inference(tokens, lengths, noise_scale=0.0)

    # glowtts-decode maps each utterance to its speaker through utt2spk and spk_list.txt
    (tmp_path / "token").write_text("a 3 5 7 2 9\nb 3 5 7 2 9\n")
    (tmp_path / "utt2spk").write_text("a spkA\nb spkB\n")
    out = tmp_path / "decode"
    rc = decode_main(["--exp_dir", str(exp), "--token", str(tmp_path / "token"), "--out_dir",
                      str(out), "--utt2spk", str(tmp_path / "utt2spk"), "--noise_scale", "0",
                      "--verbose", "false"])  # fmt: skip
    assert rc in (0, None)
    mels = dict(kaldiio.load_scp(str(out / "feats.scp")))
    np.testing.assert_allclose(mels["a"], outs[0][0].numpy(), atol=1e-4)  # (T, n_mels)
    assert mels["a"].shape != mels["b"].shape or not np.allclose(mels["a"], mels["b"])


# ------------------------------------------------------------------ slt_kal_mini recipe


def _festival_or_skip() -> None:
    """Skip (or fail with GLOWTTS_REQUIRE_FESTIVAL=1) unless both voices synthesise."""
    missing = [t for t in ("text2wave", "sox", "soxi") if not shutil.which(t)]
    if not missing:
        for voice in ("voice_cmu_us_slt_arctic_hts", "voice_kal_diphone"):
            r = subprocess.run(
                ["text2wave", "-eval", f"({voice})", "-o", "/dev/stdout"],
                input=b"test",
                capture_output=True,
                timeout=60,
            )
            if r.returncode != 0 or len(r.stdout) <= 44 or b"SIOD ERROR" in r.stderr:
                missing.append(voice)
    if missing:
        msg = (
            f"festival/sox or a voice is missing ({', '.join(missing)}): apt-get install "
            "festival festvox-us-slt-hts festvox-kallpc16k sox"
        )
        if os.environ.get("GLOWTTS_REQUIRE_FESTIVAL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def _mirror(corpus: str, tmp_path: Path) -> Path:
    """The recipe dir linked into tmp_path, so outputs never land in the checkout."""
    src = REPO / "egs" / corpus / "tts1"
    dst = tmp_path / "egs" / corpus / "tts1"
    dst.mkdir(parents=True)
    for name in ("run.sh", "tts.sh", "path.sh", "cmd.sh", "local", "conf"):
        (dst / name).symlink_to(src / name)
    (dst / "utils").symlink_to(REPO / "utils")
    return dst


TINY_MODEL = {
    "hidden_channels": 32,
    "filter_channels": 64,
    "filter_channels_dp": 32,
    "n_layers_enc": 1,
    "hidden_channels_dec": 32,
    "n_blocks_dec": 2,
    "n_block_layers": 2,
    "gin_channels": 16,
}
TINY_TRAIN = {
    "batch_size": 8,
    "num_workers": 0,
    "max_steps": 6,
    "warmup_steps": 3,
    "learning_rate": 0.02,
    "save_interval_steps": 3,
    "log_interval_steps": 2,
    "image_interval_steps": 3,
    "tensorboard": False,
    "progress_bar": False,
}


@pytest.mark.slow
def test_slt_kal_mini_recipe_two_speakers(tmp_path: Path, monkeypatch):
    _festival_or_skip()
    recipe = _mirror("slt_kal_mini", tmp_path)
    conf = yaml.safe_load((recipe / "conf" / "train.yaml").read_text())
    assert conf["model"]["n_speakers"] == 2
    conf["model"].update(TINY_MODEL)
    conf["train"].update(TINY_TRAIN)
    cfg = tmp_path / "debug.yaml"
    cfg.write_text(yaml.safe_dump(conf))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        ["./run.sh", "--n_sentences", "6", "--stage", "-1", "--stop_stage", "5",
         "--train_config", str(cfg), "--tag", "debug"],
        cwd=recipe, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    monkeypatch.chdir(recipe)  # scp files hold paths relative to the recipe dir

    # stage 0: one corpus, both speakers in every set, ids prefixed by their speaker
    for s, n in (("train", 8), ("dev", 2), ("eval", 2)):
        validate_data_dir(recipe / "data" / s)
        utt2spk = _kv(recipe / "data" / s / "utt2spk")
        assert len(utt2spk) == n and set(utt2spk.values()) == {"KAL", "SLT"}
        assert all(u.startswith(spk) for u, spk in utt2spk.items())
    texts = _kv(recipe / "data" / "eval" / "text")
    assert texts["KAL0006"] == texts["SLT0006"]  # the same sentence from both voices

    # stage 3: the speaker list beside the model
    exp = recipe / "exp" / "debug"
    assert (exp / "spk_list.txt").read_text().split() == ["KAL", "SLT"]
    assert yaml.safe_load((exp / "config.yaml").read_text())["n_speakers"] == 2
    # stage 4: MAS durations of both speakers' training utterances
    durs = _kv(exp / "durations" / "train" / "durations")
    assert sorted(durs) == sorted(_kv(recipe / "data" / "train" / "utt2spk"))
    # stage 5: every eval utterance decoded, each with its own speaker
    mels = dict(kaldiio.load_scp(str(exp / "decode_eval" / "feats.scp")))
    assert sorted(mels) == ["KAL0006", "SLT0006"]

    # synthesis by speaker name: the same text, two voices, two different mels
    from glowtts.synthesis.synthesizer import Synthesizer

    syn = Synthesizer.from_exp(exp)
    text = "The kettle whistled twice."
    kal, slt, kal2 = (
        syn.synthesize([text], spk=spk, noise_scale=0.0, vocode=False)[0].mel
        for spk in ("KAL", "SLT", "KAL")
    )
    np.testing.assert_array_equal(kal, kal2)
    assert kal.shape != slt.shape or not np.allclose(kal, slt)
    with pytest.raises(ValueError, match="unknown speaker"):
        syn.synthesize([text], spk="RMS", vocode=False)


# ------------------------------------------------------------------ kal_mini recipe


def test_kal_mini_recipe_is_slt_minis_text_in_the_kal_voice(tmp_path: Path, monkeypatch):
    """The fine-tuning target: kal alone, sentence i the text of slt_mini's SLT<i>, split
    like slt_mini, and token ids from a given voice's list (stage 2 --token_list)."""
    _festival_or_skip()
    recipe = _mirror("kal_mini", tmp_path)
    voice = tmp_path / "voice"  # a char front-end whose token list is in an odd order
    voice.mkdir()
    chars = sorted({c for c in string.printable if not c.isspace() or c == " "}, reverse=True)
    tokens = ["<blank>", "<unk>", *("<space>" if c == " " else c for c in chars)]
    (voice / "tokens.txt").write_text("\n".join(tokens) + "\n")
    (voice / "frontend.yaml").write_text(
        "token_type: char\ncleaners: [english]\nlowercase: true\nadd_blank: false\n"
        "token_list: tokens.txt\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        ["./run.sh", "--n_sentences", "10", "--stage", "-1", "--stop_stage", "2",
         "--token_type", "char", "--token_list", str(voice / "tokens.txt")],
        cwd=recipe, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    monkeypatch.chdir(recipe)
    slt_list = (REPO / "egs" / "slt_mini" / "tts1" / "local" / "sentences.txt").read_text()
    slt_list = slt_list.splitlines()
    for s, n in (("train", 8), ("dev", 1), ("eval", 1)):
        validate_data_dir(recipe / "data" / s)
        assert set(_kv(recipe / "data" / s / "utt2spk").values()) == {"KAL"}
        texts = _kv(recipe / "data" / s / "text")
        assert len(texts) == n
        assert all(t == slt_list[int(u[3:]) - 1] for u, t in texts.items())
    assert sorted(_kv(recipe / "data" / "eval" / "text")) == ["KAL0010"]  # the last, as slt
    made = recipe / "data" / "token_list" / "char"
    assert (made / "tokens.txt").read_text().splitlines() == tokens
    _, *ids = (recipe / "dump" / "eval" / "token").read_text().split()
    assert [int(i) for i in ids] == Frontend.from_file(str(voice)).encode(slt_list[9])
