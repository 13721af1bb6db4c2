"""Discovery job files: one TOML file declares what a recurring ``csei discover`` run reads,
where it keeps its state, what it focuses on and where its reports go.

Why a separate file format: a weekly job runs unattended from cron or a systemd
timer, so everything it needs must be written down in one place that can be
reviewed and versioned.  Relative paths resolve against the job file's folder
(never the current directory, which differs between a shell and cron).  Every
key is validated up front; a mistake raises :class:`ConfigError` naming the
file and the key before any input is read.

Example (see ``jobs/cee-weekly.toml``)::

    [job]
    name = "cee-weekly"
    state = "state/cee-weekly"
    [inputs]
    paths = ["crawls/**/*.warc.gz", "reports/*.pdf"]
    [focus]
    cee = true
    [report]
    dir = "reports/cee-weekly"
"""
from __future__ import annotations

import copy
import glob
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import config as config_mod
from ..errors import ConfigError
from ..taxonomy import COUNTRY_NAMES
from .cron import parse_cron  # validates the expression and the time zone

# section -> key -> default; None marks a required key.  Types follow the defaults.
SCHEMA: dict[str, dict[str, Any]] = {
    "job": {"name": None, "state": None, "config": "", "shard_size": 100},
    "inputs": {"paths": [], "seeds": [], "seed_urls": [], "forget_missing": False},
    "focus": {"cee": True, "countries": [], "languages": []},
    "thresholds": {"min_score": 0.35, "include_known": False},
    "report": {"dir": None, "title": "", "feed_url": "", "feed_runs": 20},
    "crawl": {
        "user_agent": "csei-nlp-discover/0.1 (+https://github.com/csei-nlp; research crawler)",
        "delay_s": 2.0, "max_depth": 2, "max_pages_per_site": 50, "same_site": True,
        "timeout_s": 20.0, "max_bytes": 10_000_000, "prefer_languages": [], "obey_robots": True,
    },
    "schedule": {"cron": "0 3 * * 1", "timezone": "UTC"},
}
OPTIONAL_SECTIONS = {"config"}  # [config.<section>] tables: overrides of the scan configuration

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class Job:
    """A validated job: absolute paths, the effective scan configuration, the focus."""

    path: Path
    name: str
    state_dir: Path
    report_dir: Path
    input_patterns: list[str]
    seed_files: list[Path]
    seed_urls: list[str]
    forget_missing: bool
    shard_size: int
    focus_cee: bool
    focus_countries: list[str]
    focus_languages: list[str]
    min_score: float
    include_known: bool
    title: str
    feed_url: str
    feed_runs: int
    crawl: dict[str, Any]
    cron: str
    timezone: str
    cfg: dict[str, dict[str, Any]]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.path.parent

    @property
    def crawl_dir(self) -> Path:
        return self.state_dir / "crawls"

    def expand_inputs(self) -> list[Path]:
        """Input files matched by the patterns (and the job's own crawl WARCs), sorted, absolute.

        A pattern naming a folder takes every file below it; a pattern that matches
        nothing is not an error (a weekly drop folder may be empty)."""
        found: set[Path] = set()
        for pattern in self.input_patterns:
            p = Path(pattern)
            if p.is_dir():
                found.update(q for q in p.rglob("*") if q.is_file())
                continue
            for hit in glob.glob(pattern, recursive=True):
                q = Path(hit)
                if q.is_file():
                    found.add(q)
                elif q.is_dir():
                    found.update(r for r in q.rglob("*") if r.is_file())
        if self.crawl_dir.is_dir():
            found.update(self.crawl_dir.glob("*.warc.gz"))
        return sorted(p.resolve() for p in found)

    def seeds(self) -> list[str]:
        """Seed URLs from ``seed_urls`` and the seed files (one URL a line, ``#`` comments)."""
        urls = list(self.seed_urls)
        for f in self.seed_files:
            try:
                lines = f.read_text("utf-8").splitlines()
            except OSError as exc:
                raise ConfigError(f"{self.path}: [inputs] seeds: cannot read {f}: {exc.strerror or exc}") from None
            for line in lines:
                line = line.split("#", 1)[0].strip()
                if line:
                    urls.append(line)
        bad = [u for u in urls if not re.match(r"^https?://[^/\s]+", u)]
        if bad:
            raise ConfigError(f"{self.path}: [inputs] seeds: not an http(s) URL: {bad[0]!r}")
        return list(dict.fromkeys(urls))

    def is_focus(self, cand: dict[str, Any]) -> bool:
        """Whether a candidate is in the job's focus (CEE, or a named country or language)."""
        if self.focus_cee and cand.get("cee"):
            return True
        country = (cand.get("country") or "").upper()
        if country and country in self.focus_countries:
            return True
        langs = cand.get("languages") or []
        if isinstance(langs, str):
            langs = langs.split()
        return any(lang in self.focus_languages for lang in langs)


def _check(where: str, default: Any, value: Any) -> Any:
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true/false, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if isinstance(default, list):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    return value


def _resolve(base: Path, p: str) -> Path:
    q = Path(p).expanduser()
    return q if q.is_absolute() else base / q


def load_job(path: str | Path) -> Job:
    """Read and validate a job file; raise :class:`ConfigError` naming the file and key."""
    p = Path(path).expanduser().resolve()
    data = config_mod.read_toml(p, "job file")

    vals: dict[str, dict[str, Any]] = copy.deepcopy(SCHEMA)
    for section, table in data.items():
        if section in OPTIONAL_SECTIONS:
            continue
        if section not in SCHEMA:
            raise ConfigError(f"{p}: unknown section [{section}]; known sections: "
                              f"{', '.join(sorted(set(SCHEMA) | OPTIONAL_SECTIONS))}")
        if not isinstance(table, dict):
            raise ConfigError(f"{p}: [{section}] must be a table")
        for key, value in table.items():
            if key not in SCHEMA[section]:
                raise ConfigError(f"{p}: unknown key '{key}' in [{section}]; known keys: "
                                  f"{', '.join(sorted(SCHEMA[section]))}")
            default = SCHEMA[section][key]
            vals[section][key] = value if default is None else _check(f"{p}: [{section}] {key}", default, value)
    for section, table in SCHEMA.items():
        for key, default in table.items():
            if default is None and vals[section][key] is None:
                raise ConfigError(f"{p}: missing required key '{key}' in [{section}]")
            if default is None and (not isinstance(vals[section][key], str) or not vals[section][key].strip()):
                raise ConfigError(f"{p}: [{section}] {key}: expected a non-empty string")

    base = p.parent
    j, inp, foc, thr, rep, crawl = (vals[s] for s in ("job", "inputs", "focus", "thresholds", "report", "crawl"))
    if not _NAME_RE.match(j["name"]):
        raise ConfigError(f"{p}: [job] name: use letters, digits, '.', '_' or '-' (got {j['name']!r})")
    if j["shard_size"] < 1:
        raise ConfigError(f"{p}: [job] shard_size must be >= 1")
    if not inp["paths"] and not inp["seeds"] and not inp["seed_urls"]:
        raise ConfigError(f"{p}: [inputs] needs 'paths', 'seeds' or 'seed_urls': the job has nothing to read")
    if not 0.0 <= thr["min_score"] <= 1.0:
        raise ConfigError(f"{p}: [thresholds] min_score must be between 0 and 1")
    if rep["feed_runs"] < 1:
        raise ConfigError(f"{p}: [report] feed_runs must be >= 1")
    countries = [c.upper() for c in foc["countries"]]
    unknown = [c for c in countries if c not in COUNTRY_NAMES]
    if unknown:
        raise ConfigError(f"{p}: [focus] countries: unknown country code {unknown[0]!r} (use ISO 3166 alpha-2)")
    if crawl["delay_s"] < 0 or crawl["max_depth"] < 0 or crawl["max_pages_per_site"] < 1 or crawl["timeout_s"] <= 0:
        raise ConfigError(f"{p}: [crawl] delay_s and max_depth must be >= 0, max_pages_per_site >= 1, "
                          "timeout_s > 0")

    # The scan configuration: defaults, then [job] config FILE, then inline [config.<section>] tables.
    cfg_file = _resolve(base, j["config"]) if j["config"] else None
    inline = data.get("config", {})
    if not isinstance(inline, dict):
        raise ConfigError(f"{p}: [config] must hold tables such as [config.classify]")
    cfg = config_mod.load(cfg_file, None)
    if inline:
        cfg = config_mod.merge(cfg, inline, origin=f"{p} [config]")

    parse_cron(vals["schedule"]["cron"], vals["schedule"]["timezone"], origin=f"{p}: [schedule] cron")

    langs = [l.lower() for l in foc["languages"]]
    prefer = [l.lower() for l in crawl["prefer_languages"]] or langs
    if not prefer and foc["cee"]:
        from .queries import cee_languages

        prefer = list(cee_languages())
    crawl = dict(crawl, prefer_languages=prefer)
    return Job(
        path=p, name=j["name"], state_dir=_resolve(base, j["state"]).resolve(),
        report_dir=_resolve(base, rep["dir"]).resolve(),
        input_patterns=[str(_resolve(base, x)) for x in inp["paths"]],
        seed_files=[_resolve(base, x) for x in inp["seeds"]],
        seed_urls=list(inp["seed_urls"]), forget_missing=inp["forget_missing"],
        shard_size=j["shard_size"], focus_cee=foc["cee"], focus_countries=countries,
        focus_languages=langs, min_score=thr["min_score"], include_known=thr["include_known"],
        title=rep["title"] or f"CSEI discovery: {j['name']}", feed_url=rep["feed_url"],
        feed_runs=rep["feed_runs"], crawl=crawl, cron=vals["schedule"]["cron"],
        timezone=vals["schedule"]["timezone"], cfg=cfg, raw=data,
    )
