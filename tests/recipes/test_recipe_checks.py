"""Fast recipe checks: paths with whitespace refused at once; stage 2 honours --skip_bad."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _mirror(parent: Path) -> Path:
    """Link a recipe's files into ``parent/egs/slt_kal_mini/tts1`` (outputs land there)."""
    src = REPO / "egs" / "slt_kal_mini" / "tts1"
    dst = parent / "egs" / "slt_kal_mini" / "tts1"
    dst.mkdir(parents=True)
    for name in ("run.sh", "tts.sh", "path.sh", "cmd.sh", "local", "conf"):
        (dst / name).symlink_to(src / name)
    (dst / "utils").symlink_to(REPO / "utils")
    return dst


def _run(recipe: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["./run.sh", *args], cwd=recipe, env=dict(os.environ), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip


def test_recipe_dir_with_space_fails_before_stage_0(tmp_path: Path) -> None:
    recipe = _mirror(tmp_path / "my recipes")
    proc = _run(recipe, "--stage", "0", "--stop_stage", "0")
    assert proc.returncode != 0
    assert f"'{recipe}' contains whitespace" in proc.stderr
    assert "stage 3 would fail" in proc.stderr and "path without spaces" in proc.stderr
    assert "stage 0:" not in proc.stdout + proc.stderr  # nothing ran
    assert not (recipe / "data").exists()


def test_link_to_spaced_dir_and_spaced_dumpdir_are_refused(tmp_path: Path) -> None:
    # programs see the real path through a link, so a link does not pass the check
    recipe = _mirror(tmp_path / "my recipes")
    link = tmp_path / "recipe_link"
    link.symlink_to(recipe)
    proc = _run(link, "--stage", "0", "--stop_stage", "0")
    assert proc.returncode != 0 and "my recipes" in proc.stderr and "whitespace" in proc.stderr
    # a recipe without spaces passes the check (no stage selected) but not a --dumpdir with one
    plain = _mirror(tmp_path / "plain")
    proc = _run(plain, "--stage", "0", "--stop_stage", "-1")
    assert proc.returncode == 0, proc.stderr
    proc = _run(plain, "--stage", "0", "--stop_stage", "-1", "--dumpdir", "dump dir")
    assert proc.returncode != 0 and "'dump dir' contains whitespace" in proc.stderr


def test_stage2_skip_bad_reaches_token_list_and_tokenize(tmp_path: Path) -> None:
    recipe = _mirror(tmp_path / "r")
    for s, extra in (("train", "t-bad ... !?\n"), ("dev", "d-emoji Hi \U0001f600 there.\n"),
                     ("eval", "")):  # fmt: skip
        (recipe / "data" / s).mkdir(parents=True)
        text = f"{s}-1 Hello there.\n{s}-2 How are you?\n{extra}"
        (recipe / "data" / s / "text").write_text(text, encoding="utf-8")
    proc = _run(recipe, "--stage", "2", "--stop_stage", "2")
    assert proc.returncode != 0 and "t-bad" in proc.stderr and "--skip_bad true" in proc.stderr
    proc = _run(recipe, "--stage", "2", "--stop_stage", "2", "--skip_bad", "true")
    assert proc.returncode == 0, proc.stderr
    assert (recipe / "data/token_list/char/skipped").read_text().split()[0] == "t-bad"
    assert (recipe / "dump/dev/token.skipped").read_text().split()[0] == "d-emoji"
    assert "d-emoji" not in (recipe / "dump/dev/token").read_text()
    assert "\U0001f600" not in (recipe / "data/token_list/char/tokens.txt").read_text("utf-8")
