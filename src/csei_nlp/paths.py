"""Where the project's data folders are: models/, corpora/, annotations/.

They live in the project folder: ``$CSEI_HOME`` when set (a deployed copy of
the repository's data folders, or a team's shared working folder), else the
repository root beside ``src/`` (the product owner's layout; an editable
install finds it there).  A configured folder (``[classify] models_dir``,
``[web] annotations_dir``) or a command-line flag wins over both, and every
command resolves them here, so ``csei train``, ``csei eval``, ``csei serve``
and scans agree on where models and labels are.
"""
from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    env = os.environ.get("CSEI_HOME")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2]


def models_dir(configured: str = "") -> Path:
    return Path(configured) if configured else project_root() / "models"


def corpora_dir() -> Path:
    return project_root() / "corpora"


def annotations_dir(configured: str = "") -> Path:
    return Path(configured) if configured else project_root() / "annotations"
