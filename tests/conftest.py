"""Shared test fixtures.

Tests that need the project's shared data folder (``../shared`` beside the
clone, or ``$CSEI_SHARED``) use the ``shared_dir`` fixture, which skips with a
clear reason when it is absent: a user's clone has no ``../shared``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _shared_root() -> Path | None:
    env = os.environ.get("CSEI_SHARED")
    candidates = [Path(env)] if env else []
    candidates.append(REPO.parent / "shared")
    for c in candidates:
        if (c / "data").is_dir():
            return c
    return None


SHARED = _shared_root()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if SHARED is None:
        pytest.skip("needs the shared data folder (../shared or $CSEI_SHARED), absent in this clone")
    return SHARED


@pytest.fixture(scope="session")
def repo_dir() -> Path:
    return REPO


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture()
def cfg():
    from csei_nlp import config

    return config.load()
