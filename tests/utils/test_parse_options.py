"""utils/parse_options.sh: Kaldi option semantics."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """#!/usr/bin/env bash
set -euo pipefail
nj=4
foo_bar=abc
use_gpu=false
help_message="Usage: demo.sh [--nj N] <dir>"
. {utils}/parse_options.sh
echo "nj=$nj foo_bar=$foo_bar use_gpu=$use_gpu args=$*"
"""


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    p = tmp_path / "demo.sh"
    p.write_text(SCRIPT.format(utils=REPO / "utils"))
    p.chmod(0o755)
    return p


def _run(script: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{REPO / 'tools' / 'venv' / 'bin'}:{os.environ['PATH']}")
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=env, cwd=script.parent
    )


def test_dash_and_underscore_forms(demo) -> None:
    r = _run(demo, "--nj", "8", "--foo-bar", "x y", "--use_gpu", "true", "data/train", "z")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "nj=8 foo_bar=x y use_gpu=true args=data/train z"
    r = _run(demo, "--foo_bar=q", "--", "--nj")
    assert r.stdout.strip() == "nj=4 foo_bar=q use_gpu=false args=--nj"


def test_config_file_then_command_line_overrides(demo, tmp_path) -> None:
    cfg = tmp_path / "my.conf"
    cfg.write_text("nj=2\nfoo_bar=fromconf\n")
    r = _run(demo, "--nj", "9", "--config", str(cfg), "d")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "nj=9 foo_bar=fromconf use_gpu=false args=d"
    r = _run(demo, "--config", str(tmp_path / "missing.conf"))
    assert r.returncode != 0 and "missing.conf" in r.stderr


def test_errors_and_help(demo) -> None:
    r = _run(demo, "--bogus", "1", "d")
    assert r.returncode != 0 and "invalid option --bogus" in r.stderr
    r = _run(demo, "--use-gpu", "yes")
    assert r.returncode != 0 and "true or false" in r.stderr
    r = _run(demo, "--nj")
    assert r.returncode != 0 and "needs a value" in r.stderr
    r = _run(demo, "--help")
    assert r.returncode == 0 and "Usage: demo.sh [--nj N] <dir>" in r.stderr
    assert "nj=" not in r.stdout
