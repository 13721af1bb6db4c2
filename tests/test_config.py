from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.errors import ConfigError


def test_defaults_load_and_validate():
    cfg = config.load()
    assert cfg.scan.workers >= 1
    assert cfg.language.backend in ("langdetect", "lingua")


def test_user_file_overrides_only_its_keys(tmp_path: Path):
    f = tmp_path / "c.toml"
    f.write_text("[scan]\nworkers = 1\n[score]\nclassifier = 0.5\n")
    base, cfg = config.load(), config.load(f)
    assert cfg.scan.workers == 1
    assert cfg.score.classifier == 0.5
    assert cfg.scan.max_bytes == base.scan.max_bytes


@pytest.mark.parametrize(
    "body, needle",
    [
        ("[nope]\nx = 1\n", "unknown section [nope]"),
        ("[scan]\nworkerz = 1\n", "unknown key 'workerz'"),
        ("[scan]\nworkers = 'two'\n", "expected int"),
        ("[scan]\nworkers = 0\n", "workers must be >= 1"),
        ("[language]\nbackend = 'cld3'\n", "backend must be"),
        ("[scan\n", "not valid TOML"),
    ],
)
def test_bad_config_names_file_and_problem(tmp_path: Path, body: str, needle: str):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(ConfigError) as err:
        config.load(f)
    assert needle in str(err.value)
    assert str(f) in str(err.value)


def test_missing_config_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        config.load(tmp_path / "absent.toml")


def test_fingerprint_changes_with_config():
    a = config.load()
    b = config.load(overrides={"scan": {"workers": 1}})
    assert config.fingerprint(a) != config.fingerprint(b)
    assert config.fingerprint(a) == config.fingerprint(config.load())
