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

import glob
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from .. import config as config_mod
from ..config import Config, setting
from ..errors import ConfigError
from ..taxonomy import COUNTRY_NAMES
from .cron import parse_cron  # validates the expression and the time zone

DEFAULT_USER_AGENT = "csei-nlp-discover/0.1 (+https://github.com/csei-nlp; research crawler)"


# The sections of a job file, checked by the configuration validator (config.from_tables):
# a key without a default is required.
@dataclass(frozen=True, kw_only=True)
class JobSection:
    name: str
    state: str
    config: str = ""
    shard_size: int = setting(ge=1, default=100)

    def problems(self) -> list[tuple[str | None, str]]:
        out: list[tuple[str | None, str]] = [(k, "must be a non-empty string") for k in ("name", "state")
                                             if not getattr(self, k).strip()]
        if not out and not _NAME_RE.match(self.name):
            out.append(("name", f"must use letters, digits, '.', '_' or '-' (got {self.name!r})"))
        return out


@dataclass(frozen=True, kw_only=True)
class CommonCrawlSection:
    """``[inputs.commoncrawl]``: select records from Common Crawl's columnar index and fetch them by
    byte range (:mod:`csei_nlp.discover.commoncrawl`)."""

    index: list[str]  # Parquet files or globs: local, https:// or s3:// (read through fsspec)
    warc_prefix: str = "https://data.commoncrawl.org/"  # joined with warc_filename; a local folder works too
    tlds: list[str] = field(default_factory=list)  # url_host_tld; empty = any
    url_contains: list[str] = field(default_factory=list)  # any substring, case-insensitive; empty = any
    url_terms: Literal["", "self_designation", "legal_form", "self_designation+legal_form"] = ""
    languages: list[str] = field(default_factory=list)  # ISO 639-3 codes as in content_languages
    max_records: int = setting(ge=0, default=100_000)  # records fetched per run (0: none, preview only)
    expand_per_host: int = setting(ge=0, default=10)  # more pages of a host that yields a candidate; 0 = off
    concurrency: int = setting(ge=1, le=512, default=16)  # range requests in flight (per Ray task with --engine ray)
    requests_per_s: float = setting(ge=0, default=10.0)  # all requests together; 0 = no limit
    retries: int = setting(ge=0, le=20, default=4)
    backoff_s: float = setting(ge=0, default=1.0)  # first retry waits this long, then twice as long each time
    timeout_s: float = setting(gt=0, default=60.0)
    records_per_warc: int = setting(ge=1, default=1000)

    def problems(self) -> list[tuple[str | None, str]]:
        if not self.index or any(not x.strip() for x in self.index):
            return [("index", "must list at least one Parquet file, folder or glob (local, https:// or s3://)")]
        if not self.warc_prefix.strip() or ("://" in self.warc_prefix
                                            and not self.warc_prefix.startswith(("http://", "https://"))):
            return [("warc_prefix", "must be an http(s) URL (https://data.commoncrawl.org/) or a local folder, "
                                    f"got {self.warc_prefix!r}")]
        bad = [l for l in self.languages if not re.fullmatch(r"[a-z]{3}", l)]
        if bad:
            return [("languages", f"takes ISO 639-3 codes as in the index's content_languages "
                                  f"(pol, ces, slk ...), got {bad[0]!r}")]
        bad = [t for t in self.tlds if not re.fullmatch(r"[a-z0-9-]+", t)]
        if bad:
            return [("tlds", f"takes lowercase top-level domains without a dot (pl, cz ...), got {bad[0]!r}")]
        return []


@dataclass(frozen=True, kw_only=True)
class InputsSection:
    paths: list[str] = field(default_factory=list)
    seeds: list[str] = field(default_factory=list)
    seed_urls: list[str] = field(default_factory=list)
    forget_missing: bool = False
    commoncrawl: CommonCrawlSection | None = None

    def problems(self) -> list[tuple[str | None, str]]:
        if not self.paths and not self.seeds and not self.seed_urls and self.commoncrawl is None:
            return [(None, "needs 'paths', 'seeds', 'seed_urls' or an [inputs.commoncrawl] table: "
                           "the job has nothing to read")]
        return []


@dataclass(frozen=True, kw_only=True)
class FocusSection:
    cee: bool = True
    countries: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)

    def problems(self) -> list[tuple[str | None, str]]:
        unknown = [c for c in self.countries if c.upper() not in COUNTRY_NAMES]
        if unknown:
            return [("countries", f"has an unknown country code {unknown[0]!r} (use ISO 3166 alpha-2)")]
        return []


@dataclass(frozen=True, kw_only=True)
class ThresholdsSection:
    min_score: float = setting(ge=0, le=1, default=0.35)
    include_known: bool = False


@dataclass(frozen=True, kw_only=True)
class ReportSection:
    dir: str
    title: str = ""
    feed_url: str = ""
    feed_runs: int = setting(ge=1, default=20)

    def problems(self) -> list[tuple[str | None, str]]:
        return [("dir", "must be a non-empty string")] if not self.dir.strip() else []


@dataclass(frozen=True, kw_only=True)
class CrawlConfig:
    """The ``[crawl]`` settings of a job (:func:`csei_nlp.discover.crawl.crawl_to_warc`)."""

    user_agent: str = DEFAULT_USER_AGENT
    delay_s: float = setting(ge=0, default=2.0)
    max_depth: int = setting(ge=0, default=2)
    max_pages_per_site: int = setting(ge=1, default=50)
    same_site: bool = True
    timeout_s: float = setting(gt=0, default=20.0)
    max_bytes: int = setting(ge=1, default=10_000_000)
    prefer_languages: list[str] = field(default_factory=list)
    obey_robots: bool = True


@dataclass(frozen=True, kw_only=True)
class ScheduleSection:
    cron: str = "0 3 * * 1"
    timezone: str = "UTC"


@dataclass(frozen=True)
class JobFile:
    job: JobSection
    inputs: InputsSection
    focus: FocusSection
    thresholds: ThresholdsSection
    report: ReportSection
    crawl: CrawlConfig
    schedule: ScheduleSection


OPTIONAL_SECTIONS = frozenset({"config"})  # [config.<section>] tables: overrides of the scan configuration

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
    crawl: CrawlConfig
    cron: str
    timezone: str
    cfg: Config
    commoncrawl: CommonCrawlSection | None = None  # paths resolved against the job folder
    languages: list[str] = field(default_factory=list)  # the focus languages (the CEE ones under cee = true)
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


def _resolve(base: Path, p: str) -> Path:
    q = Path(p).expanduser()
    return q if q.is_absolute() else base / q


def load_job(path: str | Path) -> Job:
    """Read and validate a job file; raise :class:`ConfigError` naming the file and key."""
    p = Path(path).expanduser().resolve()
    data = config_mod.read_toml(p, "job file")

    f = config_mod.from_tables(JobFile, [(str(p), data)], ignore=OPTIONAL_SECTIONS)
    base = p.parent
    j, inp, foc, thr, rep = f.job, f.inputs, f.focus, f.thresholds, f.report
    countries = [c.upper() for c in foc.countries]

    # The scan configuration: defaults, then [job] config FILE, then inline [config.<section>] tables.
    cfg_file = _resolve(base, j.config) if j.config else None
    inline = data.get("config", {})
    if not isinstance(inline, dict):
        raise ConfigError(f"{p}: [config] must hold tables such as [config.classify]")
    cfg = config_mod.load(cfg_file, inline, overrides_origin=f"{p} [config]")

    from .cron import parse_cron  # validates the expression and the time zone

    parse_cron(f.schedule.cron, f.schedule.timezone, origin=f"{p}: [schedule] cron")

    langs = [l.lower() for l in foc.languages]
    focus_langs = langs
    if not focus_langs and foc.cee:
        from .queries import cee_languages

        focus_langs = list(cee_languages())
    crawl = replace(f.crawl, prefer_languages=[l.lower() for l in f.crawl.prefer_languages] or focus_langs)
    cc = inp.commoncrawl
    if cc is not None:
        cc = replace(cc, index=[x if "://" in x else str(_resolve(base, x)) for x in cc.index],
                     warc_prefix=cc.warc_prefix if "://" in cc.warc_prefix
                     else str(_resolve(base, cc.warc_prefix)) + "/")
    return Job(
        path=p, name=j.name, state_dir=_resolve(base, j.state).resolve(),
        report_dir=_resolve(base, rep.dir).resolve(),
        input_patterns=[str(_resolve(base, x)) for x in inp.paths],
        seed_files=[_resolve(base, x) for x in inp.seeds],
        seed_urls=list(inp.seed_urls), forget_missing=inp.forget_missing,
        shard_size=j.shard_size, focus_cee=foc.cee, focus_countries=countries,
        focus_languages=langs, min_score=thr.min_score, include_known=thr.include_known,
        title=rep.title or f"CSEI discovery: {j.name}", feed_url=rep.feed_url,
        feed_runs=rep.feed_runs, crawl=crawl, cron=f.schedule.cron,
        timezone=f.schedule.timezone, cfg=cfg, commoncrawl=cc, languages=focus_langs, raw=data,
    )
