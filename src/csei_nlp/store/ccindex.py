"""Queries on Common Crawl's columnar URL index (Parquet files), run by DuckDB.

Why DuckDB: one crawl's index is about 300 Parquet files and several hundred
GB; the Central and Eastern European TLDs alone hold tens of millions of
rows.  DuckDB reads only the columns a query names, skips row groups whose
statistics rule out ``fetch_status = 200`` or the TLDs asked for, and runs the
URL patterns in parallel, so a selection costs a fraction of the index's size.
Every SQL string over the index lives here (``store/`` owns all SQL).

Remote files (``s3://``, ``https://``) are read through an fsspec filesystem
registered with the connection, never through DuckDB's own ``httpfs``
extension, which DuckDB would download on first use (impossible offline):
extension autoloading is switched off.

One row of the index is one capture: only ``fetch_status = 200`` with an HTML
or PDF MIME type (``content_mime_detected``) is ever selected.
"""
from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError

KEEP_MIME = ("text/html", "application/xhtml+xml", "application/pdf")
# Columns a selection reads (and so the bytes it scans).
SELECT_COLUMNS = ("url", "url_host_tld", "url_host_registered_domain", "url_path", "content_languages",
                  "content_mime_detected", "fetch_status", "warc_filename", "warc_record_offset",
                  "warc_record_length")
_REMOTE_PACKAGES = {"s3": "s3fs", "http": "aiohttp", "https": "aiohttp"}
# a host that is an IP address has no registered domain: the host in the URL stands in for it
_SITE = "coalesce(url_host_registered_domain, regexp_extract(url, '^[A-Za-z]+://([^/:?#]+)', 1))"


@dataclass(frozen=True)
class IndexFilter:
    """What to select: every non-empty condition must hold (each list: any of its values)."""

    tlds: tuple[str, ...] = ()
    url_pattern: str = ""  # an RE2 regular expression searched in the lower-cased URL; "" = any
    languages: tuple[str, ...] = ()  # ISO 639-3; any of them among content_languages
    limit: int = 0  # 0 = no limit


@dataclass(frozen=True, slots=True)
class IndexRecord:
    """One selected capture: where its WARC record lies, and what the index says about it."""

    url: str
    site: str  # url_host_registered_domain
    tld: str
    languages: str  # content_languages as in the index ("pol,eng")
    mime: str
    warc_filename: str
    offset: int
    length: int

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.warc_filename, self.offset, self.length)


class CCIndex:
    """A DuckDB connection over the index files named by ``sources`` (paths, globs, folders, URLs)."""

    def __init__(self, sources: Iterable[str], *, origin: str = "[inputs.commoncrawl] index") -> None:
        import duckdb

        self.con = duckdb.connect(":memory:")
        self.con.execute("SET autoload_known_extensions = false")
        self.files = _resolve_sources(list(sources), self.con, origin)
        self.origin = origin

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> CCIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- queries ------------------------------------------------------------------------------
    def _where(self, f: IndexFilter, params: list[Any]) -> str:
        conds = ["fetch_status = 200", f"content_mime_detected IN ({', '.join('?' * len(KEEP_MIME))})"]
        params.extend(KEEP_MIME)
        if f.tlds:
            conds.append(f"url_host_tld IN ({', '.join('?' * len(f.tlds))})")
            params.extend(f.tlds)
        if f.url_pattern:
            conds.append("regexp_matches(lower(url), ?)")
            params.append(f.url_pattern)
        if f.languages:
            conds.append("list_has_any(string_split(coalesce(content_languages, ''), ','), ?::VARCHAR[])")
            params.append(list(f.languages))
        return " AND ".join(conds)

    def _source(self) -> str:
        return "read_parquet(?::VARCHAR[], hive_partitioning = false, union_by_name = true)"

    def _exclude(self, exclude: Iterable[tuple[str, int, int]]) -> str:
        """Register the keys not to select again; return the anti-join condition."""
        import pyarrow as pa

        keys = list(exclude)
        table = pa.table({"f": pa.array([k[0] for k in keys], pa.string()),
                          "o": pa.array([k[1] for k in keys], pa.int64()),
                          "l": pa.array([k[2] for k in keys], pa.int64())})
        self.con.register("csei_done", table)
        return ("NOT EXISTS (SELECT 1 FROM csei_done d WHERE d.f = i.warc_filename "
                "AND d.o = i.warc_record_offset AND d.l = i.warc_record_length)")

    def _selection_sql(self, f: IndexFilter, exclude: Iterable[tuple[str, int, int]],
                       params: list[Any]) -> str:
        params.append(self.files)
        where = self._where(f, params) + " AND " + self._exclude(exclude)
        # md5(url): a stable pseudo-random order, so a capped selection is a sample of every WARC file
        # and the next run's selection continues where this one stopped
        sql = (f"SELECT url, {_SITE} AS site, coalesce(url_host_tld, '') AS tld, "
               f"coalesce(content_languages, '') AS languages, content_mime_detected AS mime, warc_filename, "
               f"CAST(warc_record_offset AS BIGINT) AS \"offset\", CAST(warc_record_length AS BIGINT) AS length "
               f"FROM {self._source()} i WHERE {where} ORDER BY md5(url), warc_filename, \"offset\"")
        if f.limit:
            sql += " LIMIT ?"
            params.append(int(f.limit))
        return sql

    def select(self, f: IndexFilter, exclude: Iterable[tuple[str, int, int]] = ()) -> list[IndexRecord]:
        """The records ``f`` selects that are not in ``exclude`` ((warc_filename, offset, length) keys)."""
        params: list[Any] = []
        sql = self._selection_sql(f, exclude, params)
        return [IndexRecord(*row) for row in self._run(sql, params)]

    def summary(self, f: IndexFilter, exclude: Iterable[tuple[str, int, int]] = (),
                samples: int = 10) -> dict[str, Any]:
        """Counts of the selection by TLD and first language, its bytes and sample URLs (nothing fetched)."""
        params: list[Any] = []
        sql = self._selection_sql(f, exclude, params)
        self._run(f"CREATE OR REPLACE TEMP TABLE csei_sel AS {sql}", params)
        n, nbytes, hosts = self._run("SELECT count(*), coalesce(sum(length), 0), count(DISTINCT site) "
                                     "FROM csei_sel", [])[0]
        by_tld = self._run("SELECT tld, count(*) AS n FROM csei_sel GROUP BY tld ORDER BY n DESC, tld", [])
        by_lang = self._run("SELECT coalesce(nullif(split_part(languages, ',', 1), ''), 'und') AS lang, "
                            "count(*) AS n FROM csei_sel GROUP BY lang ORDER BY n DESC, lang", [])
        by_mime = self._run("SELECT mime, count(*) AS n FROM csei_sel GROUP BY mime ORDER BY n DESC, mime", [])
        sample = [r[0] for r in self._run("SELECT url FROM csei_sel LIMIT ?", [samples])]
        return {"records": int(n), "bytes": int(nbytes), "hosts": int(hosts),
                "by_tld": [(t, int(c)) for t, c in by_tld], "by_language": [(l, int(c)) for l, c in by_lang],
                "by_mime": [(m, int(c)) for m, c in by_mime], "samples": sample}

    def host_pages(self, sites: Iterable[str], per_host: int, first_pattern: str,
                   exclude: Iterable[tuple[str, int, int]] = ()) -> list[IndexRecord]:
        """Up to ``per_host`` more pages of each site (url_host_registered_domain).

        Order within a site: paths matching ``first_pattern`` (about, members, partners ...)
        first, then pages whose first language is the site's most common one, then short URLs."""
        sites = sorted(set(sites))
        if not sites or per_host < 1:
            return []
        params: list[Any] = [self.files]
        where = self._where(IndexFilter(), params)
        where += f" AND url_host_registered_domain IN ({', '.join('?' * len(sites))})"
        params.extend(sites)
        where += " AND " + self._exclude(exclude)
        params += [first_pattern or "$^", per_host]
        sql = f"""
WITH h AS (
  SELECT url, {_SITE} AS site, coalesce(url_host_tld, '') AS tld,
         coalesce(content_languages, '') AS languages, content_mime_detected AS mime, warc_filename,
         CAST(warc_record_offset AS BIGINT) AS "offset", CAST(warc_record_length AS BIGINT) AS length,
         lower(coalesce(url_path, '')) AS path, split_part(coalesce(content_languages, ''), ',', 1) AS lang
  FROM {self._source()} i WHERE {where}),
l AS (SELECT site, mode(lang) AS site_lang FROM h GROUP BY site),
r AS (
  SELECT h.*, row_number() OVER (
    PARTITION BY h.site
    ORDER BY CASE WHEN regexp_matches(h.path, ?) THEN 0 ELSE 1 END,
             CASE WHEN h.lang = l.site_lang THEN 0 ELSE 1 END, length(h.url), h.url) AS n
  FROM h JOIN l ON h.site = l.site)
SELECT url, site, tld, languages, mime, warc_filename, "offset", length FROM r WHERE n <= ? ORDER BY site, n"""
        return [IndexRecord(*row) for row in self._run(sql, params)]

    def _run(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        import duckdb

        try:
            return self.con.execute(sql, params).fetchall()
        except duckdb.Error as exc:
            raise ConfigError(f"{self.origin}: cannot query the Common Crawl index "
                              f"({len(self.files)} files): {exc}") from None


def columns_bytes(files: list[str], columns: Iterable[str] = SELECT_COLUMNS) -> tuple[int, int]:
    """(compressed bytes of ``columns``, total bytes) over the local Parquet ``files``, from their footers:
    what a selection reads at most, next to the index's size (row groups skipped by statistics come off)."""
    import pyarrow.parquet as pq

    want, used, total = set(columns), 0, 0
    for f in files:
        if "://" in f:
            continue
        total += Path(f).stat().st_size
        meta = pq.ParquetFile(f).metadata
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                if col.path_in_schema in want:
                    used += col.total_compressed_size
    return used, total


def _resolve_sources(sources: list[str], con: Any, origin: str) -> list[str]:
    """Local globs and folders expanded to Parquet files; remote URLs kept, their filesystem registered."""
    files: list[str] = []
    registered: set[str] = set()
    for src in sources:
        if "://" in src:
            scheme = src.split("://", 1)[0].lower()
            if scheme not in registered:
                con.register_filesystem(_remote_fs(scheme, origin))
                registered.add(scheme)
            files.extend(_remote_glob(src, scheme, origin) if any(ch in src for ch in "*?[") else [src])
            continue
        p = Path(src)
        hits = sorted(str(q) for q in p.rglob("*.parquet")) if p.is_dir() else sorted(
            h for h in glob.glob(src, recursive=True) if Path(h).is_file())
        if not hits:
            raise ConfigError(f"{origin}: no Parquet file matches {src!r}")
        files.extend(hits)
    return files


def _remote_fs(scheme: str, origin: str) -> Any:
    package = _REMOTE_PACKAGES.get(scheme)
    if package is None:
        raise ConfigError(f"{origin}: cannot read {scheme}:// (use a local path, https:// or s3://)")
    try:
        import fsspec

        return fsspec.filesystem(scheme, anon=True) if scheme == "s3" else fsspec.filesystem(scheme)
    except ImportError:
        raise ConfigError(f"{origin}: reading the index from {scheme}:// needs the {package} package: "
                          f"pip install 'csei-nlp[commoncrawl]'") from None


def _remote_glob(src: str, scheme: str, origin: str) -> list[str]:
    import fsspec

    hits = sorted(fsspec.filesystem(scheme, anon=True).glob(src)) if scheme == "s3" else []
    if not hits:
        raise ConfigError(f"{origin}: no Parquet file matches {src!r} (globs work for local and s3:// paths)")
    return [h if "://" in h else f"{scheme}://{h}" for h in hits]
