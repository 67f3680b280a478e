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


def test_precision_option_reaches_the_model(tiny_exp, tmp_path, monkeypatch):
    from glowtts.synthesis.synthesizer import Synthesizer

    seen = []
    orig = Synthesizer.__init__

    def spy(self, *a, **kw):
        orig(self, *a, **kw)
        seen.append(self.precision)

    monkeypatch.setattr(Synthesizer, "__init__", spy)
    for option, want in ((["--precision", "bf16"], "bf16"), ([], "fp32")):
        out = tmp_path / f"p{want}.wav"
        synthesize(tiny_exp, "--text", "abc", "--out", out, *option)
        assert sf.read(out)[0].size > 0 and seen[-1] == want


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


# ---------------------------------------------------------------- application i/o


class _Stdout:
    """sys.stdout with a .buffer that records each write (to see chunks arrive)."""

    def __init__(self):
        self.buffer = self
        self.writes: list[bytes] = []

    def write(self, data):
        if isinstance(data, str):
            raise AssertionError(f"text on stdout: {data!r}")
        self.writes.append(bytes(data))

    def flush(self):
        pass


def _capture_stdout(monkeypatch) -> _Stdout:
    # in the test body: pytest resets sys.stdout to its own capture after fixture setup
    out = _Stdout()
    monkeypatch.setattr("sys.stdout", out)
    return out


LONG = "One sentence here. Another one follows! And a third, with a clause." * 8


def _tts(exp, text, **kw):
    from glowtts.synthesis.synthesizer import Synthesizer

    syn = Synthesizer.from_exp(exp, vocoder_options={"n_iter": 2})
    return syn.tts(text, **kw)[0]


def _pcm(wav):
    return (np.clip(wav, -1, 1) * 32767).round().astype("<i2").tobytes()


def test_output_raw_streams_pcm_chunks_to_stdout(tiny_exp, monkeypatch):
    stdout = _capture_stdout(monkeypatch)
    synthesize(tiny_exp, "--text", LONG, "--output_raw", "--seed", 3)
    assert len(stdout.writes) > 2  # written chunk by chunk
    assert b"".join(stdout.writes) == _pcm(_tts(tiny_exp, LONG, seed=3))


def test_out_dash_writes_a_wav_to_stdout(tiny_exp, monkeypatch):
    stdout = _capture_stdout(monkeypatch)
    synthesize(tiny_exp, "--text", "Hello there.", "--out", "-", "--seed", 1)
    data = b"".join(stdout.writes)
    wav, sr = sf.read(io.BytesIO(data), dtype="int16")
    assert sr == FEATS["fs"] and wav.tobytes() == _pcm(_tts(tiny_exp, "Hello there.", seed=1))


def test_json_input_lines(tiny_exp, tmp_path, monkeypatch):
    stdout = _capture_stdout(monkeypatch)
    import json

    lines = [
        json.dumps({"text": "First one.", "output_file": str(tmp_path / "a.wav")}),
        "",
        json.dumps({"text": "Second.", "length_scale": 2.0, "noise_scale": 0.0}),
    ]
    f = tmp_path / "in.jsonl"
    f.write_text("\n".join(lines) + "\n")
    synthesize(tiny_exp, "--json_input", f, "--out_dir", tmp_path / "o", "--seed", 0)
    q = 1 / 16384  # save_wav quantises to 16 bits
    a, _ = sf.read(tmp_path / "a.wav")
    np.testing.assert_allclose(a, _tts(tiny_exp, "First one.", seed=0), atol=q)
    b, _ = sf.read(tmp_path / "o" / "3.wav")  # named by its line number
    ref = _tts(tiny_exp, "Second.", seed=0, length_scale=2.0, noise_scale=0)
    np.testing.assert_allclose(b, ref, atol=q)
    # stdin, PCM out
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps({"text": "Hi."}) + "\n"))
    synthesize(tiny_exp, "--json_input", "--output_raw", "--seed", 0)
    assert b"".join(stdout.writes) == _pcm(_tts(tiny_exp, "Hi.", seed=0))


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json", "line 2: not valid JSON"),
        ('{"txt": "a"}', r"line 2: unknown key\(s\) \['txt'\]"),
        ('{"text": ""}', "line 2: 'text'"),
        ('{"text": "a", "length_scale": 99}', "line 2: length_scale must be"),
        ('{"text": "a", "speaker": 3}', "line 2: this is a single-speaker model"),
        ('{"text": "?!"}', "line 2: .*no letters or digits"),
        ('{"text": "a"}', 'line 2: no "output_file"'),
    ],
)
def test_json_input_bad_line_names_its_number(tiny_exp, tmp_path, line, message):
    import json

    f = tmp_path / "in.jsonl"
    first = json.dumps({"text": "Fine.", "output_file": str(tmp_path / "ok.wav")})
    f.write_text(f"{first}\n{line}\n")
    out_dir = () if "output_file" in message else ("--out_dir", tmp_path / "o")
    with pytest.raises(SystemExit, match=message):
        synthesize(tiny_exp, "--json_input", f, *out_dir)
    assert (tmp_path / "ok.wav").is_file()  # the line before was answered


def test_timings_file(tiny_exp, tmp_path):
    import json

    out, tj = tmp_path / "t.wav", tmp_path / "t.json"
    synthesize(tiny_exp, "--text", "Hello there. Bye.", "--out", out, "--timings", tj)
    wav, sr = sf.read(out)
    info = json.loads(tj.read_text())
    assert info["text"] == "Hello there. Bye."
    assert info["tokens"][-1]["end"] == pytest.approx(len(wav) / sr)
    assert [w["word"] for w in info["words"]] == ["Hello", "there.", "Bye."]


def test_ssml_sentence_silence_and_lexicon_options(tiny_exp, tmp_path):
    a, b, c = (tmp_path / f"{n}.wav" for n in "abc")
    text = "<speak>Hi there.<break time='500ms'/>Bye now.</speak>"
    synthesize(tiny_exp, "--text", text, "--out", a, "--seed", 1)  # auto-detected
    synthesize(tiny_exp, "--text", text.replace("500ms", "0ms"), "--out", b, "--seed", 1)
    assert len(sf.read(a)[0]) - len(sf.read(b)[0]) == round(0.5 * FEATS["fs"])
    synthesize(tiny_exp, "--text", "Hi there. Bye now.", "--out", c, "--sentence_silence", 0.5)
    assert len(sf.read(c)[0]) > len(sf.read(b)[0])
    with pytest.raises(SystemExit, match="emphasis"):
        synthesize(tiny_exp, "--text", "<speak><emphasis>x</emphasis></speak>", "--out", a)
    with pytest.raises(SystemExit, match="malformed"):
        synthesize(tiny_exp, "--ssml", "--text", "Hi <there", "--out", a)
    lex = tmp_path / "lex.txt"
    lex.write_text("hi HH AY1\n")
    with pytest.raises(SystemExit, match="phoneme voice"):
        synthesize(tiny_exp, "--text", "Hi.", "--out", a, "--lexicon", lex)
    with pytest.raises(SystemExit):
        synthesize(tiny_exp, "--text", "Hi.", "--out", a, "--sentence_silence", "-1")


def test_app_option_conflicts(tiny_exp, tmp_path):
    for args, msg in [
        (["--text", "a", "--output_raw", "--out", "x.wav"], "--output_raw"),
        (["--text_file", "-", "--out_dir", "o", "--timings", "t.json"], "--timings"),
        (["--text_file", "-", "--out", "-"], "--out"),
        (["--text", "a", "--out", "-", "--plot"], "--plot"),
        (["--json_input", "-", "--out", "x.wav"], "--json_input"),
    ]:
        with pytest.raises(SystemExit, match=msg):
            synthesize(tiny_exp, *args)


def test_text_file_lines_with_ssml_go_one_by_one(tiny_exp, tmp_path, monkeypatch):
    f = tmp_path / "lines.txt"
    f.write_text('Plain line.\n<speak>Hi.<break time="1s"/>Yo.</speak>\n')
    synthesize(tiny_exp, "--text_file", f, "--out_dir", tmp_path / "o", "--seed", 0)
    two, sr = sf.read(tmp_path / "o" / "2.wav")
    assert len(two) > sr  # the 1 s break is silence, not markup read aloud
    np.testing.assert_allclose(
        sf.read(tmp_path / "o" / "1.wav")[0], _tts(tiny_exp, "Plain line.", seed=0), atol=1 / 16384
    )
    stdout = _capture_stdout(monkeypatch)
    synthesize(tiny_exp, "--text_file", f, "--output_raw", "--seed", 0)
    raw = b"".join(stdout.writes)
    assert raw == _pcm(_tts(tiny_exp, "Plain line.", seed=0)) + _pcm(
        _tts(tiny_exp, '<speak>Hi.<break time="1s"/>Yo.</speak>', seed=0)
    )


# ------------------------------------------------------------ one interface (issue 19)
def test_two_runs_without_seed_give_the_same_audio(tiny_exp, tmp_path, caplog):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    with caplog.at_level("INFO"):
        synthesize(tiny_exp, "--text", "Hello there.", "--out", a)
    assert "seed 0" in caplog.text  # the default is said, not hidden
    synthesize(tiny_exp, "--text", "Hello there.", "--out", b)
    assert np.array_equal(sf.read(a)[0], sf.read(b)[0])
    c = tmp_path / "c.wav"
    synthesize(tiny_exp, "--text", "Hello there.", "--out", c, "--seed", 5)
    assert not np.array_equal(sf.read(a)[0], sf.read(c)[0])


def test_default_device_is_auto(tiny_exp, tmp_path, caplog):
    import torch

    from glowtts.bin.serve import get_parser as serve_parser
    from glowtts.bin.synthesize import get_parser

    assert get_parser().get_default("device") == serve_parser().get_default("device") == "auto"
    with caplog.at_level("INFO"):
        synthesize(tiny_exp, "--text", "abc", "--out", tmp_path / "x.wav")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert f"device: {expected}" in caplog.text
    with pytest.raises(SystemExit, match="--device"):
        synthesize(tiny_exp, "--text", "abc", "--out", tmp_path / "y.wav", "--device", "tpu")


def test_list_speakers(tiny_exp, tmp_path, capsys):
    from conftest import make_exp

    from glowtts.bin.serve import main as serve_main

    multi = make_exp(tmp_path / "multi", n_speakers=3)
    main(["--model", str(multi), "--list_speakers"])
    assert capsys.readouterr().out.split("\n") == ["spk0", "spk1", "spk2", ""]
    serve_main(["--model", str(multi), "--list_speakers"])  # exits before binding a port
    assert capsys.readouterr().out == "spk0\nspk1\nspk2\n"
    main(["--model", str(tiny_exp), "--list_speakers"])
    out = capsys.readouterr()
    assert out.out == "" and "single-speaker" in out.err
    with pytest.raises(SystemExit, match="--text"):
        main(["--model", str(tiny_exp)])  # no text and no --list_speakers
