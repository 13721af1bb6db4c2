"""Run a discovery job and SIGKILL this very process at a given step (used by the resume tests).

    python kill_at.py JOB_FILE EVENT N     # kill at the N-th occurrence of EVENT
"""
from __future__ import annotations

import os
import signal
import sys

from csei_nlp.discover.job import load_job
from csei_nlp.discover.runner import run_job


def main() -> None:
    job_file, event, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    seen = {"count": 0}

    def hook(ev: str, info: dict) -> None:
        if ev == event:
            seen["count"] += 1
            if seen["count"] == n:
                os.kill(os.getpid(), signal.SIGKILL)

    run_job(load_job(job_file), hook=hook)
    sys.exit(0)


if __name__ == "__main__":
    main()
