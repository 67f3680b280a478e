"""glowtts-synthesize: one utterance, a text file / stdin in batches, options, plots."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from conftest import FEATS

from glowtts.bin.synthesize import main


def synthesize(exp, *args) -> None:
    """``glowtts-synthesize --exp EXP ARGS`` with 2 Griffin-Lim iterations (fast)."""
    main(["--griffin_lim_iters", "2", "--exp", str(exp), *map(str, args)])


def test_one_utterance_with_plot(tiny_exp, tmp_path):
    out = tmp_path / "hello.wav"
    synthesize(tiny_exp, "--text", "Hello world.", "--out", out, "--plot")
    wav, sr = sf.read(out)
    assert sr == FEATS["fs"] and wav.ndim == 1 and len(wav) > 0
    assert out.with_suffix(".png").read_bytes()[:4] == b"\x89PNG"


def test_text_file_batch_and_stdin(tiny_exp, tmp_path, monkeypatch):
    f = tmp_path / "lines.txt"
    f.write_text("First line.\n\nA second, longer line of text.\nThird.\n")
    synthesize(tiny_exp, "--text_file", f, "--out_dir", tmp_path / "a", "--seed", 2)
    names = sorted(p.name for p in (tmp_path / "a").glob("*.wav"))
    assert names == ["1.wav", "3.wav", "4.wav"]  # n = line number; blank line skipped
    monkeypatch.setattr("sys.stdin", io.StringIO(f.read_text()))
    synthesize(tiny_exp, "--text_file", "-", "--out_dir", tmp_path / "b", "--seed", 2)
    for n in (1, 3, 4):  # same seed, same batch: same audio
        a, _ = sf.read(tmp_path / "a" / f"{n}.wav")
        b, _ = sf.read(tmp_path / "b" / f"{n}.wav")
        assert np.array_equal(a, b)


def test_durations_and_scales(tiny_exp, tmp_path):
    out = tmp_path / "d.wav"
    synthesize(tiny_exp, "--text", "abc", "--durations", "4 6 10", "--out", out, "--noise_scale", 0)
    wav, _ = sf.read(out)
    assert len(wav) == (20 - 1) * FEATS["hop_length"]  # 20 frames, Griffin-Lim: (T - 1) * hop


def test_errors_exit_with_a_message(tiny_exp, tmp_path):
    x = tmp_path / "x.wav"
    with pytest.raises(SystemExit, match="letters or digits"):
        synthesize(tiny_exp, "--text", "?!", "--out", x)
    with pytest.raises(SystemExit, match="durations for"):
        synthesize(tiny_exp, "--text", "abc", "--durations", "1 2", "--out", x)
    with pytest.raises(SystemExit, match="integers"):
        synthesize(tiny_exp, "--text", "abc", "--durations", "1 x", "--out", x)
    with pytest.raises(SystemExit, match="--out_dir"):
        synthesize(tiny_exp, "--text_file", "-")
    with pytest.raises(SystemExit, match="config.yaml"):
        main(["--exp", str(tmp_path), "--text", "abc"])
    f = tmp_path / "l.txt"
    f.write_text("Fine.\n...\n")
    with pytest.raises(SystemExit, match=r"skipped line\(s\) \[2\]"):
        synthesize(tiny_exp, "--text_file", f, "--out_dir", tmp_path / "o")
    assert (tmp_path / "o" / "1.wav").is_file()  # the good line was still written


@pytest.mark.parametrize(
    "option, value",
    [("--length_scale", "1e6"), ("--noise_scale", "1e30"), ("--max_seconds", "0")],
)
def test_out_of_range_options_exit_before_loading(tmp_path, capsys, option, value):
    # tmp_path is no experiment: argparse must refuse the value before anything loads
    with pytest.raises(SystemExit) as e:
        main(["--exp", str(tmp_path), "--text", "abc", option, value])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {option}" in err and option.lstrip("-") in err and "must be" in err


def test_max_seconds_caps_the_output(tiny_exp, tmp_path):
    with pytest.raises(SystemExit, match="max_seconds=0.01"):
        synthesize(
            tiny_exp,
            "--text",
            "A short sentence.",
            "--out",
            tmp_path / "a.wav",
            "--max_seconds",
            "0.01",
        )
    assert not (tmp_path / "a.wav").exists()


def test_non_finite_audio_is_not_written(tiny_exp, tmp_path, monkeypatch):
    from glowtts.synthesis.synthesizer import Synthesizer

    real = Synthesizer._vocode
    monkeypatch.setattr(
        Synthesizer, "_vocode", lambda self, mels: [w * np.nan for w in real(self, mels)]
    )
    with pytest.raises(SystemExit, match="non-finite"):
        synthesize(tiny_exp, "--text", "abc", "--out", tmp_path / "a.wav")
    assert not (tmp_path / "a.wav").exists()
