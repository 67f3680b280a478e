"""Paired bootstrap of two systems' WER, from stage-7 reports and on the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from glowtts.bin.compare_wer import main as compare_main
from glowtts.evaluation.compare import ReportError, compare_reports, paired_bootstrap
from glowtts.evaluation.metrics import EvalOptions, wer_summary

TEXT = {
    "u1": "the cat sat on the mat",
    "u2": "five dogs ran home",
    "u3": "a quick brown fox",
    "u4": "hello world",
}


def _counts(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Word errors and reference words of ``n`` synthetic utterances (WER about 0.25)."""
    rng = np.random.default_rng(seed)
    words = rng.integers(5, 30, size=n)
    return rng.binomial(words, 0.25), words


def _report(hyps: dict[str, dict[str, str]], set_name: str = "eval") -> dict:
    """A report in the report.json layout (only the parts the comparison reads)."""
    return {"sets": {set_name: {"n_utts": len(hyps), "wer": {"all": {}, "hyps": hyps}}}}


def _hyps(**systems: dict[str, str]) -> dict[str, dict[str, str]]:
    utts = set.intersection(*(set(h) for h in systems.values()))
    return {u: {s: h[u] for s, h in systems.items()} | {"text": TEXT[u]} for u in sorted(utts)}


def test_identical_systems_differ_by_zero():
    errors, words = _counts(200, 0)
    res = paired_bootstrap(errors, errors, words)
    assert res.wer_a == res.wer_b == pytest.approx(errors.sum() / words.sum())
    assert res.difference == 0.0 and res.ci == (0.0, 0.0)
    assert res.same_within_ci and res.p_b_worse == 0.0
    assert (res.n_utts, res.n_words, res.n_resamples) == (200, words.sum(), 10000)


def test_clearly_worse_system_is_outside_the_interval():
    errors, words = _counts(200, 0)
    res = paired_bootstrap(errors, errors + 2, words)
    assert res.difference == pytest.approx(400 / words.sum())
    assert 0.0 < res.ci[0] <= res.difference <= res.ci[1]
    assert not res.same_within_ci and res.p_b_worse == 1.0
    # and the other way round
    res = paired_bootstrap(errors + 2, errors, words)
    assert res.ci[1] < 0.0 and res.p_b_worse == 0.0


def test_resamples_are_paired():
    # b differs from a by one error on one utterance: with the same utterances drawn for
    # both, no resample can make b better, and b is worse exactly when that utterance is
    # drawn (probability 1 - (1 - 1/n)^n, 0.634 for n = 100).
    errors, words = _counts(100, 1)
    worse = errors.copy()
    worse[0] += 1
    res = paired_bootstrap(errors, worse, words, n_resamples=4000)
    assert res.ci[0] >= 0.0
    assert res.p_b_worse == pytest.approx(1 - 0.99**100, abs=0.03)


def test_same_seed_same_numbers():
    errors, words = _counts(150, 2)
    other = _counts(150, 3)[0]
    first = paired_bootstrap(errors, other, words, seed=7)
    assert paired_bootstrap(errors, other, words, seed=7) == first
    assert paired_bootstrap(errors, other, words, seed=8).ci != first.ci


def test_interval_shrinks_with_more_utterances():
    def width(n: int) -> float:
        errors, words = _counts(n, 4)
        res = paired_bootstrap(errors, _counts(n, 5)[0], words, n_resamples=2000)
        assert res.ci[0] <= res.difference <= res.ci[1]
        return res.ci[1] - res.ci[0]

    # 16 times the utterances: about a quarter of the width
    assert width(1600) < 0.5 * width(100)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="one length"):
        paired_bootstrap([1, 2], [1], [3, 3])
    with pytest.raises(ValueError, match="reference words"):
        paired_bootstrap([1, 2], [1, 2], [3, 0])
    with pytest.raises(ValueError, match="no utterances"):
        paired_bootstrap([], [], [])
    with pytest.raises(ValueError, match="ci"):
        paired_bootstrap([1], [1], [3], ci=1.0)


def test_compare_reports_pairs_shared_utterances():
    pytest.importorskip("jiwer", reason="jiwer (glowtts[eval]) is not installed")
    a = _report(
        _hyps(
            synth={"u1": "the cat sat on a mat", "u2": "5 dogs ran home", "u3": "a quick fox"},
            ref={"u1": "the cat sat on the mat", "u2": "five dogs ran home", "u3": "a quick fox"},
        )
    )
    b_hyps = {"u2": "five dogs ran", "u3": "a quick brown box", "u4": "hello world"}
    b = _report(_hyps(synth=b_hyps))
    cmp = compare_reports(a, b, "eval", n_resamples=500)
    # shared: u2, u3 (8 words); A: 0 + 1 deletion, B: 1 deletion + 1 substitution
    r = cmp.bootstrap
    assert (r.n_utts, r.n_words) == (2, 8)
    assert (r.wer_a, r.wer_b) == (pytest.approx(1 / 8), pytest.approx(2 / 8))
    assert r.difference == pytest.approx(1 / 8)
    assert (cmp.only_a, cmp.only_b, cmp.no_words) == (("u1",), ("u4",), ())
    out = cmp.to_dict()
    assert out["n_only_a"] == out["n_only_b"] == 1 and out["system_b"] == "synth"

    # the recordings against the synthesized speech of the same report
    own = compare_reports(a, a, "eval", system="ref", system_b="synth", n_resamples=500)
    assert own.bootstrap.wer_a == pytest.approx(1 / 14)  # u3: one deletion in 14 words
    assert own.bootstrap.wer_b == pytest.approx(2 / 14)  # u1: one substitution more


def test_compare_reports_errors_name_what_is_missing():
    pytest.importorskip("jiwer", reason="jiwer (glowtts[eval]) is not installed")
    a = _report(_hyps(synth={"u1": "the cat", "u2": "five dogs"}))
    with pytest.raises(ReportError, match=r"no set 'dev'; its sets: eval"):
        compare_reports(a, a, "dev")
    with pytest.raises(ReportError, match=r"no system 'ref'; its systems: synth"):
        compare_reports(a, a, "eval", system="ref")
    with pytest.raises(ReportError, match="share no utterance"):
        compare_reports(a, _report(_hyps(synth={"u3": "a fox"})), "eval")
    changed = _report(_hyps(synth={"u1": "the cat"}))
    changed["sets"]["eval"]["wer"]["hyps"]["u1"]["text"] = "the dog sat"
    with pytest.raises(ReportError, match="1 shared utterances differs.*u1"):
        compare_reports(a, changed, "eval")
    no_asr = {"sets": {"eval": {"wer": {"status": "n/a (--asr false)"}}}}
    with pytest.raises(ReportError, match=r"no WER to compare \(n/a \(--asr false\)\)"):
        compare_reports(a, no_asr, "eval")
    with pytest.raises(ReportError, match="not a glowtts-evaluate report"):
        compare_reports(a, {"wer": 0.1}, "eval")


class _LookupASR:
    """Stands in for pocketsphinx: the "recognised" words are looked up by the first sample."""

    def __init__(self, words: list[str]) -> None:
        self.words = words

    def transcribe(self, wav: np.ndarray, fs: int) -> str:
        return self.words[int(wav[0])]


def test_compare_reports_reads_what_the_evaluator_writes():
    pytest.importorskip("jiwer", reason="jiwer (glowtts[eval]) is not installed")
    utts = sorted(TEXT)
    said = [TEXT[u] for u in utts] + ["the cat sat on the hat", "hello"]
    wav = {i: np.full(10, float(i)) for i in range(len(said))}
    good = {u: wav[i] for i, u in enumerate(utts)}
    bad = good | {"u1": wav[4], "u4": wav[5]}  # 1 substitution, 1 deletion
    opts, asr = EvalOptions(progress=False), _LookupASR(said)
    reports = [
        {"sets": {"eval": {"wer": wer_summary(asr, {"synth": (16000, wavs)}, utts, TEXT, opts)}}}
        for wavs in (good, bad)
    ]
    reports = [json.loads(json.dumps(r)) for r in reports]  # as read from report.json
    r = compare_reports(*reports, "eval", n_resamples=500).bootstrap
    assert r.wer_a == reports[0]["sets"]["eval"]["wer"]["all"]["synth"]["wer"] == 0.0
    assert r.wer_b == pytest.approx(reports[1]["sets"]["eval"]["wer"]["all"]["synth"]["wer"])
    assert r.wer_b == pytest.approx(2 / 16) and r.n_utts == 4


def test_cli_prints_one_json_object(tmp_path, capsys):
    pytest.importorskip("jiwer", reason="jiwer (glowtts[eval]) is not installed")
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_report(_hyps(synth={u: t for u, t in TEXT.items()}))))
    b.write_text(json.dumps(_report(_hyps(synth={"u1": "the cat", "u2": "five dogs ran home"}))))
    assert compare_main([str(a), str(b), "--n_resamples", "300", "--seed", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["a"] == 0.0 and out["b"] == pytest.approx(4 / 10)
    assert out["difference"] == pytest.approx(4 / 10) and out["n_utts"] == 2
    assert out["n_words"] == 10 and out["n_resamples"] == 300 and out["seed"] == 3
    assert out["ci"][0] <= out["difference"] <= out["ci"][1]
    assert out["same_within_ci"] == (out["ci"][0] <= 0.0 <= out["ci"][1])
    assert 0.0 <= out["p_b_worse"] <= 1.0


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.json", "a.json"], "missing.json: no such file"),
        (["a.json", "a.json", "--set", "dev"], "a.json has no set 'dev'; its sets: eval"),
        (["a.json", "a.json", "--system_b", "ref"], "no system 'ref'; its systems: synth"),
    ],
)
def test_cli_errors(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.json").write_text(json.dumps(_report(_hyps(synth={"u1": "the cat"}))))
    assert compare_main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("glowtts-compare-wer: error: ") and message in err
