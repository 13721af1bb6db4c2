"""Where the project's data folders are: models/, corpora/, annotations/.

They live at the repository root (the product owner's layout), beside
``src/``.  An editable install finds them there; ``$CSEI_HOME`` points
elsewhere (e.g. a deployed copy of the repository's data folders).
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


def annotations_dir() -> Path:
    return project_root() / "annotations"
