"""``--official`` of bench/train_step.py and bench/infer.py runs end to end.

Tiny settings (batch 2, 8-12 tokens, one step; one 8-token inference call), fp32 only,
so each run takes seconds; needs the official source in ``../shared`` (skips without it,
fails under GLOWTTS_REQUIRE_SHARED=1). The timings themselves are not asserted.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from official_anchor import anchor_dir
from shared_paths import REPO


@pytest.fixture(scope="module", autouse=True)
def _official_source():
    anchor_dir()


def _run(script: str, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / script), "--official", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout)


def _cpu_fields(result: dict) -> None:
    cpu = result["cpu"]
    assert cpu["model_name"] and cpu["torch"] and cpu["threads"] >= 1
    for flag in ("avx512_bf16", "amx_bf16", "amx_tile"):
        assert isinstance(cpu[flag], bool)


def test_train_step_official():
    out = _run(
        "train_step.py", "--batch", "2", "--steps", "1", "--warmup", "0",
        "--precisions", "fp32", "--token-range", "8,12",
    )  # fmt: skip
    _cpu_fields(out)
    # same weights: ours only adds the <blank> and <unk> embedding rows (2 x 192)
    assert out["n_params"]["ours"] - out["n_params"]["official"] == 2 * 192
    r = out["results"]["fp32"]
    assert r["losses_finite"]
    assert r["ours_step_time_s"] > 0 and r["official_step_time_s"] > 0
    ratio = r["official_step_time_s"] / r["ours_step_time_s"]
    assert math.isclose(r["speedup"], ratio, rel_tol=0.01)
    assert r["ours_frames_per_s"] > 0 and r["official_frames_per_s"] > 0


def test_infer_official():
    out = _run(
        "infer.py", "--lengths", "8", "--precisions", "fp32", "--repeats", "1", "--warmup", "0",
        "--threads", "1",
    )  # fmt: skip
    _cpu_fields(out)
    row = out["results"]["8_tokens"]
    assert row["frames"] == 8 * 6  # the forced 6 frames per token, in both models
    for key in ("official_median_ms", "ours_fp32_median_ms", "official_rtf", "ours_fp32_rtf"):
        assert row[key] > 0
    ratio = row["official_median_ms"] / row["ours_fp32_median_ms"]
    assert math.isclose(row["speedup_fp32"], ratio, rel_tol=0.01)
