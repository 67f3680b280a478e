"""Recipe integration: run.sh drives the stages end to end on small corpora.

The recipe dir is mirrored into tmp_path through links (run.sh, tts.sh, path.sh,
utils, local, conf), so outputs land there and never in the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import kaldiio
import pytest
import soundfile as sf
import yaml

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

DEBUG_MODEL = {
    "hidden_channels": 32,
    "filter_channels": 64,
    "filter_channels_dp": 32,
    "n_heads": 2,
    "n_layers_enc": 1,
    "hidden_channels_dec": 32,
    "n_blocks_dec": 2,
    "n_block_layers": 2,
}
DEBUG_TRAIN = {
    "batch_size": 8,
    "batch_frames": 0,
    "num_workers": 0,
    "max_steps": 6,
    "warmup_steps": 3,
    "learning_rate": 0.02,  # peak lr about 2e-3 for the tiny model
    "save_interval_steps": 3,
    "log_interval_steps": 2,
    "image_interval_steps": 3,
    "tensorboard": False,
    "progress_bar": False,
}
DEBUG_DURATION = {"max_steps": 20, "log_interval_steps": 10, "eval_interval_steps": 10}


def _mirror(corpus: str, tmp_path: Path) -> Path:
    src = REPO / "egs" / corpus / "tts1"
    dst = tmp_path / "egs" / corpus / "tts1"
    dst.mkdir(parents=True)
    for name in ("run.sh", "tts.sh", "path.sh", "cmd.sh", "local", "conf"):
        (dst / name).symlink_to(src / name)
    (dst / "utils").symlink_to(REPO / "utils")
    return dst


def _debug_config(recipe: Path, tmp_path: Path, text: dict | None = None) -> Path:
    conf = yaml.safe_load((recipe / "conf" / "train.yaml").read_text())
    conf["model"].update(DEBUG_MODEL)
    conf["train"].update(DEBUG_TRAIN)
    conf["duration"].update(DEBUG_DURATION)  # the recipes' 300-2,000 steps: minutes here
    conf["text"].update(text or {})
    path = tmp_path / "debug.yaml"
    path.write_text(yaml.safe_dump(conf))
    return path


def _run(recipe: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        ["./run.sh", *args], cwd=recipe, env=env, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"run.sh {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc


def _lines(path: Path) -> list[list[str]]:
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def test_ljspeech_recipe_stages_0_to_7(ljspeech_mini: Path, tmp_path: Path, monkeypatch):
    recipe = _mirror("ljspeech", tmp_path)
    conf = _debug_config(recipe, tmp_path)
    common = [
        "--db_root",
        str(ljspeech_mini),
        "--train_config",
        str(conf),
        "--nj",
        "3",
        "--tag",
        "debug",
    ]
    _run(recipe, "--stage", "0", "--stop_stage", "7", "--eval_max_utts", "1", *common)
    monkeypatch.chdir(recipe)  # scp files hold paths relative to the recipe dir, as in Kaldi

    # stage 0: every one of the 32 utterances in exactly one split
    sets = {
        s: [u[0] for u in _lines(recipe / "data" / s / "text")] for s in ("train", "dev", "eval")
    }
    all_utts = [u for utts in sets.values() for u in utts]
    assert len(all_utts) == len(set(all_utts)) == 32
    # stage 1: one feature matrix per utterance, frame counts line up
    for s, utts in sets.items():
        feats = dict(kaldiio.load_scp(str(recipe / "dump" / s / "feats.scp")))
        assert sorted(feats) == sorted(utts)
        n_frames = {u: int(n) for u, n in _lines(recipe / "dump" / s / "utt2num_frames")}
        assert all(feats[u].shape == (n_frames[u], 80) for u in utts)
    # stage 3: the experiment dir records config, version and checkpoints
    exp = recipe / "exp" / "debug"
    assert (exp / "config.yaml").is_file() and (exp / "version.json").is_file()
    assert list((exp / "checkpoints").glob("step_*.pth"))
    # stages 5-6: decoded mels, durations summing to frames, one wav each
    for s in ("dev", "eval"):
        dec = recipe / "exp" / "debug" / f"decode_{s}"
        mels = dict(kaldiio.load_scp(str(dec / "feats.scp")))
        assert sorted(mels) == sorted(sets[s])
        tokens = {u[0]: len(u) - 1 for u in _lines(recipe / "dump" / s / "token")}
        for utt, *durs in _lines(dec / "durations"):
            assert len(durs) == tokens[utt]
            assert sum(map(int, durs)) == mels[utt].shape[0]
        wavs = sorted((dec / "wav").glob("*.wav"))
        assert [w.stem for w in wavs] == sorted(sets[s])
        info = sf.info(str(wavs[0]))
        assert info.samplerate == 22050 and info.frames > 0

    # stage 4: MAS durations sum to the frames the model used (rounded down to the squeeze)
    for s in ("train", "dev", "eval"):
        n_frames = {u: int(n) for u, n in _lines(recipe / "dump" / s / "utt2num_frames")}
        durs = _lines(recipe / "exp" / "debug" / "durations" / s / "durations")
        assert sorted(u for u, *_ in durs) == sorted(sets[s])
        assert all(sum(map(int, d)) == n_frames[u] // 2 * 2 for u, *d in durs)
    assert (recipe / "exp" / "debug" / "checkpoints" / "refined_dp.pth").is_file()
    # teacher forcing reproduces the stage-4 durations exactly
    _run(recipe, "--stage", "5", "--stop_stage", "5", "--teacher_forcing", "true", *common)
    forced = (recipe / "exp" / "debug" / "decode_dev_teacher" / "durations").read_text()
    assert forced == (recipe / "exp" / "debug" / "durations" / "dev" / "durations").read_text()

    # stage 7: the report covers both sets
    report = json.loads((recipe / "exp" / "debug" / "report.json").read_text())
    assert "dev" in json.dumps(report) and "eval" in json.dumps(report)
    assert (recipe / "exp" / "debug" / "report.md").is_file()

    # --decode_tag: a second decoding (here at another precision) beside the default one,
    # scored into its own report; the default decoding and report stay as they were
    before = {p: (exp / p).read_text() for p in ("report.json", "decode_eval/feats.scp")}
    _run(
        recipe, "--stage", "5", "--stop_stage", "7", "--eval_sets", "eval", "--eval_max_utts",
        "1", "--vocoder", "griffin_lim", "--decode_tag", "bf16", "--decode_args",
        "--precision bf16", "--eval_args", "--mos false --vocoders=", *common,
    )  # fmt: skip
    assert {p: (exp / p).read_text() for p in before} == before
    tagged = dict(kaldiio.load_scp(str(exp / "decode_eval_bf16" / "feats.scp")))
    assert sorted(tagged) == sorted(sets["eval"])
    assert "precision bf16" in "".join(
        p.read_text() for p in (exp / "decode_eval_bf16" / "log").glob("decode.*.log")
    )
    tagged_report = json.loads((exp / "report_bf16.json").read_text())
    assert list(tagged_report["sets"]) == ["eval"]
    assert not any(k.startswith("synth_") for k in tagged_report["sets"]["eval"]["wer"]["hyps"][
        sorted(sets["eval"])[0]])  # fmt: skip
    with pytest.raises(AssertionError, match="--decode_tag"):
        _run(recipe, "--stage", "5", "--stop_stage", "5", "--decode_tag", "../x", *common)

    # re-running a stage overwrites cleanly with the same result
    before = (recipe / "dump" / "dev" / "feats.scp").read_text()
    _run(recipe, "--stage", "1", "--stop_stage", "1", *common)
    after = (recipe / "dump" / "dev" / "feats.scp").read_text()
    assert before == after

    # --token_list: stage 2 takes another voice's list (here the trained one, reordered)
    # instead of making one, and the ids follow it
    voice = tmp_path / "voice"
    (voice / "checkpoints").mkdir(parents=True)
    tokens = (exp / "tokens.txt").read_text().splitlines()
    tokens = tokens[:2] + tokens[:1:-1]  # <blank> <unk> stay first, the rest reversed
    (voice / "tokens.txt").write_text("\n".join(tokens) + "\n")
    shutil.copy(exp / "frontend.yaml", voice / "frontend.yaml")
    stage2 = ["--stage", "2", "--stop_stage", "2", *common]
    shutil.copy(recipe / "dump" / "dev" / "token", tmp_path / "dev.token")
    # --init_from (a checkpoint path) implies the token list of its experiment dir
    out = _run(recipe, *stage2, "--init_from", str(voice / "checkpoints" / "best.pth")).stdout
    assert f"token list and front-end from {voice}" in out
    made = recipe / "data" / "token_list" / "char"
    assert (made / "tokens.txt").read_text().splitlines() == tokens
    ids = {u: [tokens[int(i)] for i in ix] for u, *ix in _lines(recipe / "dump" / "dev" / "token")}
    old_tokens = (exp / "tokens.txt").read_text().splitlines()
    assert ids == {u: [old_tokens[int(i)] for i in ix] for u, *ix in _lines(tmp_path / "dev.token")}
    with pytest.raises(AssertionError, match="not 'phn'"):
        _run(recipe, *stage2, "--token_list", str(voice / "tokens.txt"), "--token_type", "phn")


def test_ljspeech_recipe_missing_db_root_is_a_clear_error(tmp_path: Path):
    recipe = _mirror("ljspeech", tmp_path)
    proc = subprocess.run(
        ["./run.sh", "--stage", "0", "--stop_stage", "0", "--db_root", str(tmp_path / "nowhere")],
        cwd=recipe,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "nowhere" in proc.stdout + proc.stderr


def test_embedded_recipe_end_to_end(tmp_path: Path, monkeypatch):
    if not (shutil.which("text2wave") and shutil.which("sox")):
        msg = "festival/sox missing: apt-get install festival festvox-us-slt-hts sox"
        if os.environ.get("GLOWTTS_REQUIRE_FESTIVAL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    recipe = _mirror("slt_mini", tmp_path)
    conf = _debug_config(recipe, tmp_path, {"token_type": "phn", "add_blank": True})
    _run(
        recipe, "--n_sentences", "12", "--n_long", "1", "--stage", "-1", "--stop_stage", "6",
        "--train_config", str(conf), "--token_type", "phn", "--tag", "debug",
    )  # fmt: skip
    monkeypatch.chdir(recipe)
    # The long sentence is its own set, outside the split, decoded like eval.
    long_text = _lines(recipe / "data" / "eval_long" / "text")
    assert [u[0] for u in long_text] == ["SLTL0001"] and len(" ".join(long_text[0][1:])) > 250
    assert not any(u[0].startswith("SLTL") for u in _lines(recipe / "data" / "train" / "text"))
    for s in ("eval", "eval_long"):
        dec = recipe / "exp" / "debug" / f"decode_{s}"
        mels = dict(kaldiio.load_scp(str(dec / "feats.scp")))
        assert mels and len(list((dec / "wav").glob("*.wav"))) == len(mels)
        tokens = {u[0]: len(u) - 1 for u in _lines(recipe / "dump" / s / "token")}
        assert sorted(mels) == sorted(tokens)
        for utt, *durs in _lines(dec / "durations"):
            # add_blank: durations cover the interspersed sequence (2n + 1 tokens)
            assert len(durs) == 2 * tokens[utt] + 1
            assert sum(map(int, durs)) == mels[utt].shape[0]
