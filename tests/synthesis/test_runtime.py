"""The torch-free runtime: an exported voice synthesises with onnxruntime + numpy only."""

from __future__ import annotations

import os
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="onnxruntime not installed (tools/requirements-dev.txt)")
pytest.importorskip("onnx", reason="onnx not installed (tools/requirements-dev.txt)")

from glowtts.bin.export import main as export_main  # noqa: E402
from glowtts.bin.synthesize import main as synthesize_main  # noqa: E402
from glowtts.synthesis.runtime import OnnxVoice, griffin_lim, torch_randn  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
# what the runtime needs; nothing else is installed in the torch-free venv
RUNTIME_PACKAGES = ["numpy", "onnxruntime", "pyyaml"]
TEXT = "Hello there. How are you today?"


@pytest.fixture(scope="module")
def voice_dir(tiny_exp, tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("voice") / "voice_onnx"
    export_main(["--exp", str(tiny_exp), "--format", "onnx", "--out", str(d)])
    return d


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path)) as f:
        pcm = np.frombuffer(f.readframes(f.getnframes()), "<i2")
        return pcm.astype(np.float32) / 32768, f.getframerate()


def test_importing_the_runtime_does_not_import_torch():
    code = "import sys, glowtts.synthesis.runtime; assert 'torch' not in sys.modules, 'torch'"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


@pytest.mark.parametrize("shape", [(20, 2), (20, 37), (80, 401)])
def test_torch_randn_matches_torch(shape):
    import torch

    ref = torch.randn(*shape, generator=torch.Generator().manual_seed(123)).numpy()
    assert np.abs(torch_randn(123, shape) - ref).max() < 1e-5


def test_numpy_griffin_lim_matches_torch(voice_dir, monkeypatch):
    """The numpy Griffin-Lim gives the torch one's waveform for the same initial phase
    (0 iterations compares the STFT/iSTFT pair; iterations then only compose them)."""
    from glowtts.audio.features import MelConfig

    voice = OnnxVoice(voice_dir)
    mel = voice.mel(voice.frontend.encode("abc def"), noise_scale=0.0, length_scale=1.0)["mel"]
    mag = np.maximum(voice._mel_pinv @ np.exp(mel.astype(np.float64)).T, 0.0)
    conf = MelConfig.from_dict(voice.config["feats"])
    ours = griffin_lim(mag, conf.n_fft, conf.hop_length, conf.win_length, n_iter=8)
    # torch with our initial phase: momentum and projections must agree
    ref = _torch_griffin_lim_from_phase(mag, conf, 8, monkeypatch)
    assert ours.shape == ref.shape == ((mel.shape[0] - 1) * conf.hop_length,)
    assert np.abs(ours - ref).max() < 1e-4


def _torch_griffin_lim_from_phase(mag, conf, n_iter, monkeypatch):
    """torch's ``griffin_lim_linear`` fed the numpy initial phase (seed 0)."""
    import importlib

    import torch

    gl = importlib.import_module("glowtts.audio.griffin_lim")
    phase = torch.from_numpy(np.random.default_rng(0).random(mag.shape)[None])
    monkeypatch.setattr(torch, "rand", lambda *a, **k: phase)  # its one random draw
    wav = gl.griffin_lim_linear(torch.from_numpy(mag)[None], conf, n_iter, momentum=0.99)
    monkeypatch.undo()
    return wav[0].numpy().astype(np.float32)


def test_synthesize_cli_onnx_writes_the_runtime_wav(voice_dir, tmp_path):
    out = tmp_path / "x.wav"
    synthesize_main(["--onnx", str(voice_dir), "--text", TEXT, "--out", str(out), "--seed", "3"])
    wav, sr = _read_wav(out)
    voice = OnnxVoice(voice_dir)
    ref = voice.synthesize(TEXT, seed=3)
    assert sr == voice.sample_rate == 8000
    assert wav.shape == ref.shape and np.abs(wav - ref).max() < 2 / 32768
    # two chunks (two sentences) with 0.2 s of silence between them
    assert len(wav) > 0.2 * sr and np.abs(wav).max() > 0


def test_synthesize_cli_needs_exactly_one_of_exp_and_onnx(voice_dir, tiny_exp, tmp_path):
    with pytest.raises(SystemExit, match="--model .* or --onnx VOICE_DIR"):
        synthesize_main(["--text", "hi", "--out", str(tmp_path / "a.wav")])
    with pytest.raises(SystemExit, match="--model .* or --onnx VOICE_DIR"):
        synthesize_main(
            ["--exp", str(tiny_exp), "--onnx", str(voice_dir), "--text", "hi"]
            + ["--out", str(tmp_path / "a.wav")]
        )
    with pytest.raises(SystemExit, match="--durations not available"):
        synthesize_main(
            ["--onnx", str(voice_dir), "--text", "hi", "--durations", "1 2"]
            + ["--out", str(tmp_path / "a.wav")]
        )


def test_runtime_rejects_a_non_voice_dir(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a voice directory"):
        OnnxVoice(tmp_path)


def test_seed_reproduces_and_differs(voice_dir):
    voice = OnnxVoice(voice_dir)
    a = voice.synthesize("abc", seed=1, noise_scale=0.8)
    assert np.array_equal(a, voice.synthesize("abc", seed=1, noise_scale=0.8))
    assert not np.array_equal(a, voice.synthesize("abc", seed=2, noise_scale=0.8))


def _pip_install(venv: Path, packages: list[str]) -> None:
    """Install ``packages`` into ``venv`` from the package registry; skip when pip cannot
    reach it (fail instead under GLOWTTS_REQUIRE_SHARED=1, as CI sets)."""
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    r = subprocess.run(
        pip + ["install", "--quiet", "--disable-pip-version-check", *packages],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if r.returncode:
        msg = f"pip could not install {packages} (no registry access?): {r.stderr[-800:]}"
        if os.environ.get("GLOWTTS_REQUIRE_SHARED") == "1":
            pytest.fail(msg)
        pytest.skip(msg)


def test_runtime_runs_in_a_venv_without_torch(voice_dir, tmp_path):
    """A fresh venv with only numpy, onnxruntime and PyYAML synthesises a wav, and torch is
    neither installed there nor imported."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    _pip_install(venv, RUNTIME_PACKAGES)
    out = tmp_path / "out.wav"
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['runtime', '--onnx', {str(voice_dir)!r}, '--text', {TEXT!r},"
        f" '--out', {str(out)!r}, '--seed', '3']\n"
        "runpy.run_module('glowtts.synthesis.runtime', run_name='__main__')\n"
        "import importlib.util\n"
        "assert 'torch' not in sys.modules, 'the runtime imported torch'\n"
        "assert importlib.util.find_spec('torch') is None, 'torch is installed in the venv'\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONPATH"] = str(REPO)  # the glowtts package itself, not installed (its deps pull torch)
    r = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code], capture_output=True, text=True, env=env
    )
    assert r.returncode == 0, r.stderr[-2000:]
    wav, sr = _read_wav(out)
    assert sr == 8000 and len(wav) > 0.2 * sr and np.abs(wav).max() > 0
    ref = OnnxVoice(voice_dir).synthesize(TEXT, seed=3)
    assert wav.shape == ref.shape


def test_multi_speaker_voice(tmp_path):
    """spk_list.txt travels with the voice; a name or an id picks the speaker."""
    from conftest import make_exp

    exp = make_exp(tmp_path / "ms", n_speakers=3)
    export_main(["--exp", str(exp), "--format", "onnx", "--out", str(tmp_path / "v")])
    voice = OnnxVoice(tmp_path / "v")
    assert voice.speakers == ["spk0", "spk1", "spk2"]
    a = voice.synthesize("abc de", spk="spk2", seed=0)
    assert np.array_equal(a, voice.synthesize("abc de", spk=2, seed=0))
    assert not np.array_equal(a, voice.synthesize("abc de", spk="spk0", seed=0))
    with pytest.raises(ValueError, match="unknown speaker 'bob'; known: spk0, spk1, spk2"):
        voice.synthesize("abc", spk="bob")


def test_unspeakable_text_is_a_clear_error(voice_dir, tmp_path):
    voice = OnnxVoice(voice_dir)
    with pytest.raises(ValueError, match="text is empty"):
        voice.synthesize("  ")
    with pytest.raises(ValueError, match="no letters or digits"):
        voice.synthesize("?! ...")
    with pytest.raises(SystemExit, match="--onnx: text '...' has no letters"):
        synthesize_main(
            ["--onnx", str(voice_dir), "--text", "...", "--out", str(tmp_path / "a.wav")]
        )
