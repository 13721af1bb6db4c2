import dataclasses
import json
import pickle
import tomllib
from importlib import resources
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


def test_bad_type_names_file_section_key_expected_type_and_value(tmp_path: Path):
    f = tmp_path / "types.toml"
    f.write_text("[pdf]\nmax_cid_ratio = 'high'\n")
    with pytest.raises(ConfigError) as err:
        config.load(f)
    msg = str(err.value)
    assert str(f) in msg and "[pdf] max_cid_ratio" in msg and "expected float" in msg and "'high'" in msg


@pytest.mark.parametrize("where", ["file", "overrides"])
def test_a_boolean_is_not_an_integer(tmp_path: Path, where: str):
    f = tmp_path / "w.toml"
    f.write_text("[scan]\nworkers = true\n")
    with pytest.raises(ConfigError) as err:
        config.load(f) if where == "file" else config.load(overrides={"scan": {"workers": True}})
    assert "[scan] workers: expected int, got True" in str(err.value)
    assert (str(f) if where == "file" else "command line") in str(err.value)


def test_the_job_file_scan_config_uses_the_same_validator(tmp_path: Path):
    from csei_nlp.discover.job import load_job

    job = tmp_path / "j.toml"
    job.write_text('[job]\nname = "j"\nstate = "st"\n[inputs]\npaths = ["in"]\n[report]\ndir = "rep"\n'
                   "[config.scan]\nworkers = true\n")
    with pytest.raises(ConfigError, match=r"\[scan\] workers: expected int, got True") as err:
        load_job(job)
    assert str(job) in str(err.value)


def test_unknown_key_is_rejected_and_known_keys_are_listed():
    with pytest.raises(ConfigError) as err:
        config.load(overrides={"embed": {"batch": 8}})
    assert "unknown key 'batch' in [embed]" in str(err.value) and "batch_size" in str(err.value)


def test_ranges_and_choices(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"\[annotate\] overlap must be between 0 and 1, got 1.5"):
        config.load(overrides={"annotate": {"overlap": 1.5}})
    with pytest.raises(ConfigError, match=r"\[web\] page_size must be between 1 and 1000"):
        config.load(overrides={"web": {"page_size": 0}})
    with pytest.raises(ConfigError, match=r"\[embed\] device must be one of 'auto', 'cpu', 'cuda', got 'tpu'"):
        config.load(overrides={"embed": {"device": "tpu"}})
    with pytest.raises(ConfigError, match=r"\[score\] weights must be >= 0 and not all zero"):
        config.load(overrides={"score": {k: 0 for k in config.as_dict(config.load())["score"]}})
    assert config.load(overrides={"pdf": {"timeout_s": 30}}).pdf.timeout_s == 30.0  # an integer for a float


def test_the_object_round_trips_to_defaults_toml():
    shipped = tomllib.loads(resources.files("csei_nlp").joinpath("defaults.toml").read_text("utf-8"))
    cfg = config.load()
    assert isinstance(cfg, config.Config) and isinstance(cfg.scan, config.ScanConfig)
    assert config.as_dict(cfg) == shipped
    assert json.dumps(config.as_dict(cfg), sort_keys=True) == json.dumps(shipped, sort_keys=True)
    assert config.merge(cfg, {}) == cfg == config.defaults()


def test_the_object_is_frozen_and_pickles():
    cfg = config.load(overrides={"scan": {"workers": 3}})
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.scan.workers = 4  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(cfg))
    assert again == cfg and again.scan.workers == 3
    assert config.fingerprint(again) == config.fingerprint(cfg)
