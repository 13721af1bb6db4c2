"""`csei train` keeps the models it replaces; `csei models rollback` puts them back."""
from __future__ import annotations

import json
import shutil

import pytest

from csei_nlp import config
from csei_nlp.cli import main
from csei_nlp.errors import ConfigError
from csei_nlp.train import release, train_all


def _model_set(folder, data_hash):
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("helix", "candidate"):
        (folder / f"{name}.skops").write_bytes(f"{name}:{data_hash}".encode())
        (folder / f"{name}.card.json").write_text(json.dumps({"training_data_hash": data_hash,
                                                              "created": "2026-12-01T00:00:00"}))
    (folder / "EVAL.md").write_text(f"# eval {data_hash}\n")


def test_snapshot_then_rollback_restores_exactly_and_can_be_undone(tmp_path):
    models = tmp_path / "models"
    _model_set(models, "old")
    kept = release.snapshot(models)
    assert kept is not None and sorted(p.name for p in kept.iterdir()) == sorted(
        p.name for p in release.model_files(models))
    (models / "helix.skops").unlink()
    _model_set(models, "new")
    (models / "subject.skops").write_bytes(b"only in the new set")

    restored = release.rollback(models)
    assert restored == kept
    assert (models / "helix.skops").read_bytes() == b"helix:old"
    assert not (models / "subject.skops").exists()  # exactly the kept set, nothing of the new one left
    # the replaced (new) set was kept, so the rollback itself can be undone
    names = [k["name"] for k in release.history(models)]
    assert len(names) == 2 and names[0].endswith("-rollback")
    release.rollback(models, names[0])
    assert (models / "helix.skops").read_bytes() == b"helix:new" and (models / "subject.skops").exists()


def test_rollback_without_history_or_with_a_wrong_name_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="nothing to roll back"):
        release.rollback(tmp_path)
    _model_set(tmp_path, "a")
    release.snapshot(tmp_path)
    with pytest.raises(ConfigError, match="no kept model set named 'nope'"):
        release.rollback(tmp_path, "nope")


def test_only_the_newest_sets_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(release, "KEEP", 3)
    _model_set(tmp_path, "a")
    for _ in range(5):
        release.snapshot(tmp_path)
    assert len(release.history(tmp_path)) == 3


def test_a_failed_training_leaves_the_previous_models_in_place(tmp_path):
    models = tmp_path / "models"
    _model_set(models, "shipped")
    before = {p.name: p.read_bytes() for p in release.model_files(models)}
    bad = tmp_path / "annotations" / "passages"
    bad.mkdir(parents=True)
    (bad / "broken.jsonl").write_text('{"id": "x", "text": "no labels"\n')
    with pytest.raises(Exception):
        train_all(tmp_path / "annotations", models, config.load(overrides={"train": {"real_pages_limit": 0}}))
    assert {p.name: p.read_bytes() for p in release.model_files(models)} == before


def test_models_command_lists_and_rolls_back(tmp_path, capsys):
    models = tmp_path / "models"
    _model_set(models, "old")
    release.snapshot(models)
    _model_set(models, "new")
    assert main(["models", "list", "--models", str(models)]) == 0
    assert "1 earlier set(s) kept" in capsys.readouterr().out
    assert main(["models", "rollback", "--models", str(models)]) == 0
    assert json.loads((models / "helix.card.json").read_text())["training_data_hash"] == "old"
    assert main(["models", "rollback", "nope", "--models", str(models)]) == 2
    assert "no kept model set named" in capsys.readouterr().err
