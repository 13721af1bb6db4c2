"""Kill -9 at several points, restart: the end state equals an uninterrupted run; the lock holds."""
from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csei_nlp.discover.job import load_job
from csei_nlp.discover.lock import JobLock, LockedError
from csei_nlp.discover.runner import run_job

SITES = ["klaster-borylipiny.pl", "zelenalhota.cz", "ptce-orvane.fr"]


def _outputs(folder: Path) -> dict[str, object]:
    """What must be identical: candidates (scan format), the change report without its run id,
    and the store's documents (no duplicates, nothing lost)."""
    job = load_job(folder / "job.toml")
    rows = list(csv.DictReader(io.StringIO((job.report_dir / "latest" / "new_candidates.csv").read_text("utf-8"))))
    for r in rows:
        r.pop("run_id")
    con = sqlite3.connect(job.state_dir / "store" / "csei.sqlite")
    docs = con.execute("SELECT id, source, offset, status, content_hash, n_passages FROM documents ORDER BY id").fetchall()
    n_pass = con.execute("SELECT COUNT(*) FROM passages").fetchone()[0]
    con.close()
    return {"candidates.csv": (job.state_dir / "candidates.csv").read_bytes(), "changes": rows,
            "documents": docs, "passages": n_pass}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, helpers):
    """One job folder for the reference run and every kill scenario: the same absolute input
    paths give the same document ids, so the outputs must match byte for byte."""
    root = tmp_path_factory.mktemp("resume")
    helpers.write_job(root, shard_size=2)
    helpers.add_sites(root / "corpus", SITES)
    res = run_job(load_job(root / "job.toml"))
    assert res.exit_code == 0 and len(res.shards) == 2
    return root, _outputs(root)


def _reset(root: Path) -> Path:
    shutil.rmtree(root / "state")
    shutil.rmtree(root / "reports")
    return root / "job.toml"


@pytest.mark.parametrize("event,n", [("shard_done", 1), ("ranked", 1)])
def test_sigkill_at_a_step_then_resume_gives_identical_results(helpers, workdir, event, n):
    root, reference = workdir
    job_file = _reset(root)
    killed = subprocess.run([sys.executable, str(helpers.killer), str(job_file), event, str(n)],
                            capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (root / "reports" / "latest" / "new_candidates.csv").exists()
    resumed = helpers.run_cli("discover", "--job", str(job_file))
    assert resumed.returncode == 0, resumed.stderr
    assert _outputs(root) == reference
    runs = helpers.run_cli("runs", "--job", str(job_file), "--format", "jsonl").stdout.splitlines()
    assert len(runs) == 1 and '"resumed": 1' in runs[0] and '"status": "ok"' in runs[0]


def test_sigkill_of_the_whole_process_group_mid_shard_then_resume(helpers, workdir):
    root, reference = workdir
    job_file = _reset(root)
    shards = root / "state" / "shards"
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from csei_nlp.cli import main; sys.exit(main())",
                             "discover", "--job", str(job_file)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # wait until the second shard is being scanned (the first one is complete)
    while time.monotonic() < deadline:
        done = [p for p in shards.glob("*") if (p / "_DONE").exists()] if shards.exists() else []
        tmp = list(shards.glob("*.tmp")) if shards.exists() else []
        if done and tmp:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the run never reached its second shard")
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(30) == -signal.SIGKILL
    resumed = helpers.run_cli("discover", "--job", str(job_file))
    assert resumed.returncode == 0, resumed.stderr
    assert not list(shards.glob("*.tmp"))
    assert _outputs(root) == reference


def test_lock_blocks_a_second_run_and_a_stale_lock_is_taken_over(tmp_path, helpers):
    job_file = helpers.write_job(tmp_path)
    state = tmp_path / "state"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from csei_nlp.discover.lock import JobLock; l = JobLock(sys.argv[1]).acquire(); "
         "print('held', flush=True); time.sleep(60)", str(state)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        res = helpers.run_cli("discover", "--job", str(job_file))
        assert res.returncode == 3
        assert f"pid {holder.pid}" in res.stderr and "in progress" in res.stderr and res.stdout == ""
        with pytest.raises(LockedError):
            JobLock(state).acquire()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    # the holder died without releasing: its record is still in the file, the lock is free
    lock = JobLock(state).acquire()
    try:
        assert lock.stale is not None and lock.stale["pid"] == holder.pid and lock.stale["alive"] is False
    finally:
        lock.release()
    # released cleanly: no stale record next time
    with JobLock(state) as again:
        assert again.stale is None
