"""Helpers for the discovery-job tests: a small corpus built from corpora/sample and job files."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WEB = REPO / "corpora" / "sample" / "web"
KILLER = Path(__file__).resolve().parent / "kill_at.py"

# Sites of the sample corpus used as "already known" and as "planted new" inputs.
BATCH1 = ["klaster-borylipiny.pl", "gruenes-wiesenthal.de"]
BATCH2 = ["ptce-orvane.fr", "klaster-hornarieka.sk"]


def add_sites(corpus: Path, sites: list[str]) -> list[str]:
    """Copy sample sites into ``corpus``; return the copied files (absolute, sorted)."""
    out = []
    for s in sites:
        shutil.copytree(SAMPLE_WEB / s, corpus / s, dirs_exist_ok=True)
        out += [str(p.resolve()) for p in (corpus / s).rglob("*.html")]
    return sorted(out)


def write_job(folder: Path, *, shard_size: int = 2, min_score: float = 0.0, classify: bool = False,
              extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus").mkdir(exist_ok=True)
    job = folder / "job.toml"
    job.write_text(f"""
[job]
name = "test-job"
state = "state"
shard_size = {shard_size}
[inputs]
paths = ["corpus/**/*.html"]
forget_missing = true
[focus]
cee = true
[thresholds]
min_score = {min_score}
[report]
dir = "reports"
[config.classify]
enabled = {"true" if classify else "false"}
[config.language]
backend = "langdetect"
[config.scan]
workers = 1
{extra}
""", "utf-8")
    return job


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    # not "-m csei_nlp.cli": run as __main__ that module would be a second copy without the plugins
    return subprocess.run([sys.executable, "-c", "import sys; from csei_nlp.cli import main; sys.exit(main())", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


@pytest.fixture(scope="session")
def helpers():
    class H:
        add_sites = staticmethod(add_sites)
        write_job = staticmethod(write_job)
        run_cli = staticmethod(run_cli)
        killer = KILLER
        batch1, batch2 = BATCH1, BATCH2

    return H
