"""utils/run.sh (local) and utils/slurm.sh (generated script, fake sbatch)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UTILS = REPO / "utils"


def _env(extra_path: Path | None = None) -> dict:
    path = f"{REPO / 'tools' / 'venv' / 'bin'}:{os.environ['PATH']}"
    if extra_path is not None:
        path = f"{extra_path}:{path}"
    return dict(os.environ, PATH=path)


def _run(args: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env or _env())


def test_job_array_substitutes_job_and_logs(tmp_path) -> None:
    # "|" here is what a shell user writes as \| : a pipe inside each job.
    r = _run(
        [
            str(UTILS / "run.sh"),
            "JOB=1:3",
            "log/x.JOB.log",
            "echo",
            "job JOB",
            "|",
            "tr",
            "a-z",
            "A-Z",
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    for j in (1, 2, 3):
        lines = (tmp_path / "log" / f"x.{j}.log").read_text().splitlines()
        assert lines[0].startswith("# echo") and f"job\\ {j}" in lines[0]
        assert lines[1].startswith("# Started at")
        assert f"JOB {j}" in lines
        assert lines[-1].startswith("# Ended (code 0)")


def test_failing_job_exits_nonzero_with_log_tail(tmp_path) -> None:
    script = tmp_path / "job.sh"
    script.write_text(
        '#!/usr/bin/env bash\nfor i in $(seq 1 30); do echo "line $i of job $1"; done\n'
        '[ "$1" != 2 ] || { echo "BOOM in job $1" >&2; exit 7; }\n'
    )
    script.chmod(0o755)
    r = _run(
        [
            str(UTILS / "run.sh"),
            "--max_jobs_run",
            "2",
            "JOB=1:3",
            "log/j.JOB.log",
            str(script),
            "JOB",
        ],
        tmp_path,
    )
    assert r.returncode != 0
    assert "job 2 failed with exit code 7" in r.stderr and "log/j.2.log" in r.stderr
    assert "BOOM in job 2" in r.stderr and "line 30 of job 2" in r.stderr
    assert "line 5 of job 2" not in r.stderr  # only the tail is shown
    assert "1 / 3 jobs failed" in r.stderr
    # The other jobs ran to completion.
    for j in (1, 3):
        assert "# Ended (code 0)" in (tmp_path / "log" / f"j.{j}.log").read_text()
    assert "# Ended (code 7)" in (tmp_path / "log" / "j.2.log").read_text()


def test_max_jobs_run_bounds_parallelism(tmp_path) -> None:
    # Each job records start/end in a shared file; replaying the events gives the concurrency.
    script = tmp_path / "job.sh"
    script.write_text(
        f'#!/usr/bin/env bash\necho "+ $1" >> {tmp_path}/events\nsleep 0.2\n'
        f'echo "- $1" >> {tmp_path}/events\n'
    )
    script.chmod(0o755)
    r = _run(
        [
            str(UTILS / "run.sh"),
            "--max-jobs-run",
            "2",
            "JOB=1:6",
            "log/p.JOB.log",
            str(script),
            "JOB",
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    events = (tmp_path / "events").read_text().split("\n")
    running = peak = 0
    for e in filter(None, events):
        running += 1 if e.startswith("+") else -1
        peak = max(peak, running)
    assert len([e for e in events if e.startswith("+")]) == 6
    assert peak <= 2


def test_single_job_form_and_usage_errors(tmp_path) -> None:
    r = _run([str(UTILS / "run.sh"), "log/one.log", "echo", "hi"], tmp_path)
    assert r.returncode == 0 and "hi" in (tmp_path / "log" / "one.log").read_text()
    r = _run([str(UTILS / "run.sh"), "log/one.log", "bash", "-c", "echo oops; exit 3"], tmp_path)
    assert r.returncode != 0 and "oops" in r.stderr and "exit code 3" in r.stderr
    r = _run([str(UTILS / "run.sh"), "JOB=1:2", "log/nojob.log", "true"], tmp_path)
    assert r.returncode != 0 and "must contain JOB" in r.stderr
    r = _run([str(UTILS / "run.sh"), "--frobnicate", "1", "log/x.log", "true"], tmp_path)
    assert r.returncode != 0 and "unknown option --frobnicate" in r.stderr


def test_slurm_dry_run_script(tmp_path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "slurm.conf").write_text(
        "# site options\n--partition=cpu --account=tts\ngpu: --partition=gpu\n"
    )
    r = _run(
        [
            str(UTILS / "slurm.sh"),
            "--dry_run",
            "--gpu",
            "2",
            "--mem",
            "8G",
            "--time",
            "1:00:00",
            "--max_jobs_run",
            "2",
            "JOB=1:4",
            "exp/log/decode.JOB.log",
            "echo",
            "JOB",
        ],
        tmp_path,
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for opt in (
        "--array=1-4%2",
        "--gres=gpu:2",
        "--mem=8G",
        "--time=1:00:00",
        "--partition=cpu",
        "--account=tts",
        "--partition=gpu",
        "--output=exp/log/q/decode.%a.out",
    ):
        assert f"#SBATCH {opt}\n" in out, opt
    assert (tmp_path / "exp" / "log" / "q" / "decode.sh").is_file()
    r = _run([str(UTILS / "slurm.sh"), "--dry_run", "JOB=1:4", "l/x.JOB.log", "true"], tmp_path)
    assert "--gres" not in r.stdout and "--partition=gpu" not in r.stdout


FAKE_SBATCH = """#!/usr/bin/env bash
# Stand-in for sbatch --wait: run every array task of the script here, one after another.
script=${@: -1}
range=$(sed -n 's/^#SBATCH --array=\\([0-9]*-[0-9]*\\).*/\\1/p' "$script")
rc=0
for ((t = ${range%-*}; t <= ${range#*-}; t++)); do
  SLURM_ARRAY_TASK_ID=$t bash "$script" > /dev/null 2>&1 || rc=1
done
echo 4242
exit $rc
"""


@pytest.fixture
def fake_slurm(tmp_path) -> dict:
    bindir = tmp_path / "fakebin"
    bindir.mkdir()
    (bindir / "sbatch").write_text(FAKE_SBATCH)
    (bindir / "sbatch").chmod(0o755)
    return _env(bindir)


def test_slurm_runs_array_and_reports_failure(tmp_path, fake_slurm) -> None:
    r = _run(
        [str(UTILS / "slurm.sh"), "JOB=1:3", "log/s.JOB.log", "echo", "task JOB"],
        tmp_path,
        fake_slurm,
    )
    assert r.returncode == 0, r.stderr
    assert "task 2" in (tmp_path / "log" / "s.2.log").read_text()
    r = _run(
        [
            str(UTILS / "slurm.sh"),
            "JOB=1:3",
            "log/f.JOB.log",
            "bash",
            "-c",
            "echo died JOB; [ JOB != 3 ]",
        ],
        tmp_path,
        fake_slurm,
    )
    assert r.returncode != 0
    assert "job 3 failed with exit code 1" in r.stderr and "died 3" in r.stderr


def test_sigterm_waits_for_the_job_to_finish(tmp_path) -> None:
    """SIGTERM to the whole process group (a scheduler's time limit): the launcher
    forwards it and returns only once the job has finished its clean-up, so a
    trainer's last checkpoint is on disk when the recipe sees the launcher end."""
    import signal
    import time

    job = tmp_path / "job.sh"
    job.write_text(
        "#!/usr/bin/env bash\n"
        "trap 'sleep 1.5; echo saved > \"$1/saved\"; exit 143' TERM\n"
        'touch "$1/started"\n'
        "while :; do sleep 0.1; done\n"
    )
    job.chmod(0o755)
    proc = subprocess.Popen(
        [str(UTILS / "run.sh"), "log/j.log", str(job), str(tmp_path)],
        cwd=tmp_path,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while not (tmp_path / "started").exists() and time.time() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert (tmp_path / "saved").is_file(), "the launcher returned before the job's clean-up"
    assert "# Ended (code 143)" in (tmp_path / "log/j.log").read_text()


@pytest.mark.parametrize(
    "gpu, pool, want",
    [
        ("1", "3,5", ["3", "5", "3", "5"]),  # round robin over the visible GPUs
        ("2", "0,1,2", ["0,1", "2,0", "1,2", "0,1"]),
        ("0", "3,5", ["3,5"] * 4),  # --gpu 0: the environment is left alone
    ],
)
def test_gpu_option_pins_each_job(tmp_path, gpu, pool, want) -> None:
    env = dict(_env(), CUDA_VISIBLE_DEVICES=pool)
    r = _run(
        [str(UTILS / "run.sh"), "--gpu", gpu, "JOB=1:4", "log/g.JOB.log",
         "bash", "-c", 'echo "dev=$CUDA_VISIBLE_DEVICES"'],
        tmp_path,
        env,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    got = [
        next(
            x
            for x in (tmp_path / f"log/g.{j}.log").read_text().splitlines()
            if x.startswith("dev=")
        )
        for j in range(1, 5)
    ]
    assert got == [f"dev={w}" for w in want]
