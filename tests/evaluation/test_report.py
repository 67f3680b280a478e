"""The stage-7 report end to end on a tiny experiment built from two LJSpeech utterances.

The "decoded" features are the reference features and the "synthesized" wavs are the
reference recordings, so the expected values are known: MCD 0, synthesized WER equal to
the reference WER, predicted durations equal to the stage-4 durations.
"""

from __future__ import annotations

import json
import shutil

import kaldiio
import numpy as np
import pytest
import tinytts
import torch
import yaml

from glowtts.audio.features import MelConfig, logmel
from glowtts.audio.io import load_wav
from glowtts.bin.evaluate import main as evaluate_main
from glowtts.data.kaldi import DataDirError
from glowtts.evaluation.report import EvalOptions, MissingInputError, evaluate, write_report
from glowtts.nets import build_model

UTTS = {"LJ001-0002": "in being comparatively modern.", "LJ001-0008": "has never been surpassed."}
N_VOCAB = 12
TINY_MODEL = tinytts.tiny_model(n_mels=80)


@pytest.fixture(scope="module")
def recipe(tmp_path_factory, ljspeech_mini):
    """A recipe dir with the outputs of stages 0-6 for set ``eval``."""
    root = tmp_path_factory.mktemp("tts1")
    conf = MelConfig()
    data, dump, exp = root / "data" / "eval", root / "dump" / "eval", root / "exp" / "tiny"
    dec = exp / "decode_eval"
    for d in (data, dump, exp / "checkpoints", dec / "wav", exp / "durations" / "eval"):
        d.mkdir(parents=True)
    rng = np.random.default_rng(0)
    text, wavscp, tokens, timing, durations = [], [], [], [], []
    feats = {}
    for utt, sentence in UTTS.items():
        src = ljspeech_mini / "wavs" / f"{utt}.wav"
        text.append(f"{utt} {sentence}\n")
        wavscp.append(f"{utt} {src}\n")
        feats[utt] = logmel(load_wav(src, conf.fs), conf)
        ids = rng.integers(1, N_VOCAB, size=len(sentence) // 3).tolist()
        tokens.append(f"{utt} {' '.join(map(str, ids))}\n")
        n_in = 2 * len(ids) + 1  # add_blank: durations are per model input token
        d = np.full(n_in, len(feats[utt]) // n_in)
        d[-1] += len(feats[utt]) - d.sum()
        durations.append(f"{utt} {' '.join(map(str, d))}\n")
        timing.append(f"{utt} 0.5 {len(feats[utt])}\n")
        shutil.copy(src, dec / "wav" / f"{utt}.wav")
    (data / "text").write_text("".join(text))
    (data / "wav.scp").write_text("".join(wavscp))
    (dump / "token").write_text("".join(tokens))
    for path in (dump, dec):
        with kaldiio.WriteHelper(f"ark,scp:{path / 'feats.ark'},{path / 'feats.scp'}") as w:
            for utt, m in feats.items():
                w[utt] = m
    (dec / "durations").write_text("".join(durations))
    (dec / "timing").write_text("".join(timing))
    (exp / "durations" / "eval" / "durations").write_text("".join(durations))
    config = {
        "n_vocab": N_VOCAB,
        "model": TINY_MODEL,
        "feats": conf.to_dict(),
        "text": {"add_blank": True},
    }
    (exp / "config.yaml").write_text(yaml.safe_dump(config))
    torch.manual_seed(0)
    torch.save(
        {"model": build_model(TINY_MODEL, N_VOCAB).state_dict()}, exp / "checkpoints" / "best.pth"
    )
    return root


def _opts(**kw) -> EvalOptions:
    kw = {"mos": False, "vocoders": ("griffin_lim",)} | kw  # the slow parts where asked for
    return EvalOptions(progress=False, vocoder_rtf_utts=1, **kw)


def test_full_report(recipe, monkeypatch):
    pytest.importorskip("pocketsphinx", reason="pocketsphinx (glowtts[eval]) is not installed")
    monkeypatch.chdir(recipe)
    rc = evaluate_main(
        [
            "--exp_dir",
            "exp/tiny",
            "--sets",
            "eval",
            "--long_chars",
            "27",
            "--vocoder_rtf_utts",
            "1",
            "--verbose",
            "false",
        ]
    )
    assert rc == 0
    exp = recipe / "exp" / "tiny"
    report = json.loads((exp / "report.json").read_text())
    res = report["sets"]["eval"]
    assert res["n_utts"] == 2

    assert res["mcd"]["mean"] == pytest.approx(0.0, abs=1e-9)  # decoded == reference
    assert res["mcd"]["length_ratio_mean"] == 1.0

    assert np.isfinite(res["nll"]["nll_per_frame_channel"])
    assert res["nll"]["n_frames"] == sum(
        len(m) // 2 * 2 for _, m in kaldiio.load_scp_sequential("dump/eval/feats.scp")
    )

    dur = res["durations"]  # stage-4 file == decoded durations
    assert dur["source"].endswith("durations")
    assert dur["mae_frames"] == 0.0 and dur["utt_length_rel_error"] == 0.0

    frames = sum(len(m) for _, m in kaldiio.load_scp_sequential("dump/eval/feats.scp"))
    assert res["rtf"]["mel"]["rtf"] == pytest.approx(1.0 / (frames * 256 / 22050))
    assert res["rtf"]["vocoder"]["rtf"] > 0 and res["rtf"]["vocoder"]["n_utts"] == 1

    wer = res["wer"]
    assert wer["all"]["synth"]["wer"] == wer["all"]["ref"]["wer"]  # synthesized == reference
    assert wer["all"]["ref"]["wer"] < 0.6
    assert 0.0 <= wer["all"]["vocoded_ref"]["wer"] <= 1.5
    assert wer["long"]["n_utts"] == 1  # only LJ001-0002 is longer than 27 characters
    assert set(wer["hyps"]) == set(UTTS)

    # both vocoders on the decoded and on the reference mels (here the same mels)
    assert res["vocoders"]["stage6"].startswith("unknown")  # the fixture wrote no wav/vocoder
    for v in ("griffin_lim", "hifigan"):
        if res["vocoders"][v] != "ok":
            assert v == "hifigan" and res["vocoders"][v].startswith("skipped: ")
            continue
        assert wer["all"][f"synth_{v}"]["wer"] == wer["all"][f"vocoded_ref_{v}"]["wer"]
        assert 0.0 <= wer["all"][f"synth_{v}"]["wer"] <= 1.5
        assert set(wer["hyps"]["LJ001-0002"]) >= {f"synth_{v}", f"vocoded_ref_{v}"}
    assert wer["all"]["vocoded_ref_griffin_lim"] == wer["all"]["vocoded_ref"]  # made once

    mos = res["mos"]  # DistillMOS where installed, else the reason
    if "status" in mos:
        assert mos["status"].startswith("skipped: ")
    else:
        assert 1.0 <= mos["ref"]["mean"] <= 5.0 and mos["ref"]["n_utts"] == 2
        assert mos["synth"] == mos["ref"]  # the synthesized wavs are the recordings

    md = (exp / "report.md").read_text()
    assert "MCD" in md and "WER" in md and "0.00 ± 0.00" in md
    assert "WER, synthesized, Griffin-Lim" in md and "WER, HiFi-GAN of ref. mels" in md
    assert "DistillMOS mean ± std, reference recordings" in md
    for rel in ("report/mcd_eval.png", "report/durations_eval.png", "report/wer.png"):
        assert f"]({rel})" in md
        assert (exp / rel).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_second_report_reads_every_recognition_back(recipe, tmp_path, monkeypatch):
    """Same audio, same recogniser: the second stage 7 recognises nothing and reports the
    same WERs (here every audio set repeats; normally the reference ones do)."""
    pytest.importorskip("pocketsphinx", reason="pocketsphinx (glowtts[eval]) is not installed")
    from glowtts.evaluation.asr import PocketSphinxASR

    shutil.copytree(recipe, tmp_path / "r")
    root, exp = tmp_path / "r", tmp_path / "r" / "exp" / "tiny"
    (root / "dump" / "score_cache.jsonl").unlink(missing_ok=True)
    opts = _opts(nll=False, score_cache=str(root / "dump" / "score_cache.jsonl"))
    first = evaluate(exp, ["eval"], root / "data", root / "dump", opts)["sets"]["eval"]["wer"]

    def refuse(self, wav, fs):
        raise AssertionError("recognised again")

    monkeypatch.setattr(PocketSphinxASR, "transcribe", refuse)
    second = evaluate(exp, ["eval"], root / "data", root / "dump", opts)["sets"]["eval"]["wer"]
    assert second == first and first["all"]["ref"]["n_utts"] == 2


def test_mas_durations_from_nll_pass_when_stage4_absent(recipe, tmp_path):
    shutil.copytree(recipe, tmp_path / "r")
    root = tmp_path / "r"
    shutil.rmtree(root / "exp" / "tiny" / "durations")
    kw = dict(data_dir=root / "data", dump_dir=root / "dump")
    report = evaluate(root / "exp" / "tiny", ["eval"], opts=_opts(asr=False), **kw)
    dur = report["sets"]["eval"]["durations"]
    assert "evaluator" in dur["source"]
    n_tokens = sum(
        len(line.split()) - 1
        for line in (root / "dump" / "eval" / "token").read_text().splitlines()
    )
    assert dur["n_tokens"] == n_tokens  # blanks merged back into their tokens
    assert report["sets"]["eval"]["wer"] == {"status": "n/a (--asr false)"}

    report = evaluate(root / "exp" / "tiny", ["eval"], opts=_opts(asr=False, nll=False), **kw)
    assert report["sets"]["eval"]["durations"] == {"status": "n/a (run stage 4)"}
    json_path, md_path = write_report(report, root / "exp" / "tiny")
    assert "n/a (run stage 4)" in md_path.read_text()
    assert json.loads(json_path.read_text())["sets"]["eval"]["mcd"]["mean"] == pytest.approx(
        0.0, abs=1e-9
    )


@pytest.mark.parametrize(
    "remove, stage",
    [
        ("exp/tiny/decode_eval/feats.scp", "stage 5"),
        ("dump/eval/feats.scp", "stage 1"),
        ("data/eval/text", "stage 0"),
        ("exp/tiny/config.yaml", "stage 3"),
        ("exp/tiny/decode_eval/wav", "stage 6"),
    ],
)
def test_missing_input_names_file_and_stage(recipe, tmp_path, remove, stage, capsys):
    shutil.copytree(recipe, tmp_path / "r")
    root = tmp_path / "r"
    target = root / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    with pytest.raises(MissingInputError, match=stage) as err:
        evaluate(root / "exp" / "tiny", ["eval"], root / "data", root / "dump", _opts(asr=True))
    assert remove.split("/")[-1] in str(err.value)
    argv = [
        "--exp_dir",
        str(root / "exp" / "tiny"),
        "--sets",
        "eval",
        "--data_dir",
        str(root / "data"),
        "--dump_dir",
        str(root / "dump"),
    ]
    assert evaluate_main(argv) == 1
    assert stage in capsys.readouterr().err


def test_decode_suffix_reads_its_own_dir_and_refuses_paths(recipe, capsys):
    """``--decode_suffix _x`` reads decode_<set>_x (here absent: the error names it); a
    suffix that could leave the experiment dir is refused before anything is read."""
    argv = ["--exp_dir", str(recipe / "exp" / "tiny"), "--sets", "eval",
            "--data_dir", str(recipe / "data"), "--dump_dir", str(recipe / "dump")]  # fmt: skip
    assert evaluate_main([*argv, "--decode_suffix", "_bf16"]) == 1
    assert "decode_eval_bf16" in capsys.readouterr().err
    assert evaluate_main([*argv, "--decode_suffix", "/../../x"]) == 2
    assert "--decode_suffix" in capsys.readouterr().err
    assert not (recipe / "exp" / "tiny" / "report_bf16.json").exists()


def test_text_only_set_gets_synthesized_wer_only(recipe, tmp_path):
    """A set without reference audio (e.g. long sentences made up for the robustness test)."""
    pytest.importorskip("pocketsphinx", reason="pocketsphinx (glowtts[eval]) is not installed")
    shutil.copytree(recipe, tmp_path / "r")
    root = tmp_path / "r"
    (root / "data" / "eval" / "wav.scp").unlink()
    shutil.rmtree(root / "dump" / "eval")
    report = evaluate(root / "exp" / "tiny", ["eval"], root / "data", root / "dump", _opts())
    res = report["sets"]["eval"]
    assert res["has_reference_audio"] is False
    assert res["mcd"]["status"].startswith("n/a") and res["nll"]["status"].startswith("n/a")
    assert res["durations"]["mae_frames"] == 0.0  # stage-4 durations still compared
    assert res["wer"]["all"]["synth"]["n_utts"] == 2
    assert res["wer"]["all"]["ref"] is None and res["wer"]["all"]["vocoded_ref"] is None
    _, md_path = write_report(report, root / "exp" / "tiny")
    assert "n/a (no reference audio)" in md_path.read_text()


def test_stage4_durations_are_read_and_feats_pipes_refused(recipe, tmp_path):
    """The stage-4 file is the MAS source even with the NLL pass on; a decoded feats.scp
    entry that is a command is refused, naming the file, not run."""
    shutil.copytree(recipe, tmp_path / "r")
    root = tmp_path / "r"
    kw = dict(data_dir=root / "data", dump_dir=root / "dump")
    report = evaluate(root / "exp" / "tiny", ["eval"], opts=_opts(asr=False), **kw)
    stage4 = root / "exp" / "tiny" / "durations" / "eval" / "durations"
    assert report["sets"]["eval"]["durations"]["source"] == str(stage4)
    assert report["sets"]["eval"]["durations"]["mae_frames"] == 0.0

    scp = root / "exp" / "tiny" / "decode_eval" / "feats.scp"
    first = scp.read_text().splitlines()[0].split()[0]
    scp.write_text(f"{first} cat /dev/null |\n")
    with pytest.raises(DataDirError, match="feats.scp"):
        evaluate(root / "exp" / "tiny", ["eval"], opts=_opts(asr=False, nll=False), **kw)


class _FakeMOS:
    """Stands in for DistillMOS: the score is the peak amplitude, calls are counted."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, wavs, fs, device="cpu"):
        self.calls += 1
        assert fs == 22050 and all(w.ndim == 1 for w in wavs)
        return [1.0 + float(np.max(np.abs(w))) for w in wavs]


def test_naturalness_rows_per_audio_set_with_the_stage6_vocoder_reused(
    recipe, tmp_path, monkeypatch
):
    """Every audio set gets a MOS; the stage-6 vocoder's set is the stage-6 wavs (scored
    once); a vocoder that cannot run here is reported as skipped with its reason."""
    import glowtts.evaluation.mos as mos_mod
    import glowtts.vocoders.hifigan as hifigan

    shutil.copytree(recipe, tmp_path / "r")
    root, exp = tmp_path / "r", tmp_path / "r" / "exp" / "tiny"
    (exp / "decode_eval" / "wav" / "vocoder").write_text("griffin_lim\n")
    fake = _FakeMOS()
    monkeypatch.setattr(mos_mod, "predict_mos", fake)
    monkeypatch.setattr(mos_mod, "unavailable_reason", lambda: None)
    monkeypatch.setattr(hifigan, "pretrained_unfit_reason", lambda conf, name="": "not here")
    opts = _opts(asr=False, nll=False, mos=True, vocoders=("griffin_lim", "hifigan"))
    report = evaluate(exp, ["eval"], root / "data", root / "dump", opts)
    res = report["sets"]["eval"]
    assert res["vocoders"] == {
        "stage6": "griffin_lim",
        "griffin_lim": "ok",
        "hifigan": "skipped: not here",
    }
    m = res["mos"]
    assert set(m) == {
        "predictor",
        "synth",
        "ref",
        "vocoded_ref",
        "synth_griffin_lim",
        "vocoded_ref_griffin_lim",
    }
    assert m["synth_griffin_lim"] == m["synth"] == m["ref"]  # stage-6 wavs are the recordings
    assert m["vocoded_ref_griffin_lim"] == m["vocoded_ref"]
    # synth and vocoded_ref: shared sets are scored once, and the recordings (the same
    # audio as the synthesized wavs here) are read back by content (evaluation.cache)
    assert fake.calls == 2
    assert all(v["n_utts"] == 2 and v["mean"] >= 1.0 for k, v in m.items() if k != "predictor")
    assert res["wer"] == {"status": "n/a (--asr false)"}

    _, md_path = write_report(report, exp)
    md = md_path.read_text()
    ref = m["ref"]
    assert (
        f"| DistillMOS mean ± std, reference recordings | {ref['mean']:.2f} ± {ref['std']:.2f} (2 utts) |"
        in md
    )
    assert "| DistillMOS mean ± std, HiFi-GAN of ref. mels | skipped: not here |" in md
    assert "| WER, synthesized, HiFi-GAN | n/a (--asr false) |" in md


def test_naturalness_skipped_with_its_reason(recipe, tmp_path, monkeypatch):
    import glowtts.evaluation.mos as mos_mod

    shutil.copytree(recipe, tmp_path / "r")
    root, exp = tmp_path / "r", tmp_path / "r" / "exp" / "tiny"
    monkeypatch.setattr(mos_mod, "unavailable_reason", lambda: "distillmos is not installed")
    opts = _opts(asr=False, nll=False, mos=True)
    report = evaluate(exp, ["eval"], root / "data", root / "dump", opts)
    assert report["sets"]["eval"]["mos"] == {"status": "skipped: distillmos is not installed"}
    _, md_path = write_report(report, exp)
    md = md_path.read_text()
    assert (
        "| DistillMOS mean ± std, synthesized (stage-6 wavs) | skipped: distillmos is not installed |"
        in md
    )
    assert "| DistillMOS mean ± std, Griffin-Lim of ref. mels | skipped: distillmos" in md


def test_vocode_records_the_vocoder_it_used(tmp_path):
    """Stage 6 names its vocoder in <out_dir>/vocoder: the recipe log and stage 7 read it."""
    from glowtts.bin.vocode import main as vocode_main

    conf = MelConfig()
    scp = tmp_path / "feats.scp"
    with kaldiio.WriteHelper(f"ark,scp:{tmp_path / 'feats.ark'},{scp}") as w:
        w["u1"] = np.full((20, conf.n_mels), -5.0, dtype=np.float32)
    out = tmp_path / "wav"
    argv = ["--feats_scp", str(scp), "--out_dir", str(out), "--no_progress", "--n_iter", "2"]
    assert vocode_main(argv) == 0  # a Griffin-Lim option makes auto choose Griffin-Lim
    assert (out / "vocoder").read_text() == "griffin_lim\n"
    assert (out / "u1.wav").is_file()
