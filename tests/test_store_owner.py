"""State has one owner: SQL is written only under ``csei_nlp/store/``, and ``annotate`` never imports ``web``."""
from __future__ import annotations

import re
from pathlib import Path

import csei_nlp

PKG = Path(csei_nlp.__file__).parent
SQL = re.compile(r"\b(SELECT\b|INSERT\s+(OR\s+\w+\s+)?INTO\b|UPDATE\s+\w+\s+SET\b|DELETE\s+FROM\b|CREATE\s+TABLE\b)")


def _sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py"))


def test_no_sql_outside_store():
    offenders = [f"{p.relative_to(PKG)}:{n}" for p in _sources(PKG) if "store" not in p.relative_to(PKG).parts[:1]
                 for n, line in enumerate(p.read_text("utf-8").splitlines(), 1) if SQL.search(line)]
    assert offenders == []


def test_annotate_does_not_import_web():
    offenders = [str(p.relative_to(PKG)) for p in _sources(PKG / "annotate")
                 if re.search(r"^\s*(from\s+(\.\.|csei_nlp\.)web\b|import\s+csei_nlp\.web\b)", p.read_text("utf-8"), re.M)]
    assert offenders == []
