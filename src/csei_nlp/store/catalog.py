"""Read-side queries over the scan store (``OUTDIR/csei.sqlite``) for the review app.

The ranking is paged by keyset (``WHERE (sort_key, site) > (last values)``)
on indexes this module adds to the store, so a page costs the same at
candidate 100,000 as at candidate 1; ``explain()`` shows the plan (tested).
All SQL takes bound parameters; sort columns come from a fixed whitelist.

Why in ``store/``: every SQL statement of the package lives here, and the
connection is opened like every other (``connect_wal``); the web layer only
turns requests into :class:`Filters` and results into pages.
"""
from __future__ import annotations

import base64
import json
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..taxonomy import FAMILIES
from ..types import source_ref
from .sqlite import Store
from .wal import connect_wal

INDEXES = (
    "CREATE INDEX IF NOT EXISTS web_cand_cee_rank ON candidates(cee, rank)",
    "CREATE INDEX IF NOT EXISTS web_cand_known_rank ON candidates(known, rank)",
    "CREATE INDEX IF NOT EXISTS web_cand_country_rank ON candidates(country, rank)",
    "CREATE INDEX IF NOT EXISTS web_cand_score_site ON candidates(score, site)",
    "CREATE INDEX IF NOT EXISTS web_cand_name_site ON candidates(name, site)",
    "CREATE INDEX IF NOT EXISTS web_cand_ndocs_site ON candidates(n_documents, site)",
    # a candidate's documents: its own site's pages (documents_site) or pages attached to it from elsewhere
    "CREATE INDEX IF NOT EXISTS web_doc_candidate ON documents(json_extract(meta, '$.candidate'))",
)

# sort name -> (column, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "rank": ("rank", False),
    "score_asc": ("score", False),
    "name": ("name", False),
    "documents": ("n_documents", True),
}

# A candidate's documents: two index lookups (its own site's pages, pages attached to it from elsewhere);
# an OR of the two scans every document, and '+status' keeps the planner off the status index.
_DOCUMENTS_OF = (
    "SELECT id, url, title, lang, source, offset, media, n_passages, dup_of, site, "
    "json_extract(meta, '$.role') AS role, json_extract(meta, '$.subject_prob') AS subject_prob "
    "FROM documents WHERE +status = 'ok' AND id IN ("
    "SELECT id FROM documents WHERE json_extract(meta, '$.candidate') = ? "
    "UNION SELECT id FROM documents WHERE site = ?) ORDER BY url, id LIMIT ?")

# counts and facets per store state, shared by the app's request threads
_CACHE: OrderedDict[Any, Any] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 512

#: the ranking's decision filter: "" (all) or the latest decision of a site ("pending": none yet)
DECISION_FILTERS = ("", "pending", "accept", "reject", "unsure")


@dataclass
class Filters:
    q: str = ""
    known: str = "all"  # all | new | known
    cee: bool = False
    country: str = ""
    lang: str = ""
    min_score: float | None = None
    max_score: float | None = None
    tags: list[str] = field(default_factory=list)  # "family:label"
    decision: str = ""  # "" | pending | accept | reject | unsure: the caller fills the site lists below
    only_sites: list[str] | None = None  # decision filter: only these sites (from the app's decisions)
    except_sites: list[str] | None = None  # decision filter "pending": not these (decided) sites
    problems: list[str] = field(default_factory=list)  # what was wrong in the query and how it was read

    @classmethod
    def from_args(cls, args: Any) -> "Filters":
        problems: list[str] = []

        def num(key: str, label: str) -> float | None:
            raw = str(args.get(key, "")).strip()
            if not raw:
                return None
            try:
                v = float(raw)
            except ValueError:
                v = float("nan")
            if not 0.0 <= v <= 1.0:
                problems.append(f"The {label} score {raw[:20]!r} is not a number between 0 and 1; it was ignored.")
                return None
            return v

        lo, hi = num("min_score", "lowest"), num("max_score", "highest")
        if lo is not None and hi is not None and lo > hi:
            problems.append(f"The score range {lo:g}-{hi:g} was reversed; it was read as {hi:g}-{lo:g}.")
            lo, hi = hi, lo
        decision = args.get("decision", "")
        if decision not in DECISION_FILTERS:
            problems.append(f"Unknown decision filter {decision[:20]!r}; showing all candidates.")
            decision = ""

        tags = [t for t in args.getlist("tag") if ":" in t and t.split(":", 1)[0] in FAMILIES
                and t.split(":", 1)[1] in FAMILIES[t.split(":", 1)[0]]]
        known = args.get("known", "all")
        return cls(q=args.get("q", "").strip()[:200], known=known if known in ("all", "new", "known") else "all",
                   cee=args.get("cee") in ("1", "on", "true"), country=args.get("country", "").strip().upper()[:3],
                   lang=args.get("lang", "").strip().lower()[:8], min_score=lo, max_score=hi, tags=tags,
                   decision=decision, problems=problems)

    def to_args(self) -> dict[str, Any]:
        """The query parameters that give these filters back (for links: paging, exports, charts)."""
        out: dict[str, Any] = {}
        for key, value in (("q", self.q), ("known", "" if self.known == "all" else self.known),
                           ("cee", "1" if self.cee else ""), ("country", self.country), ("lang", self.lang),
                           ("min_score", "" if self.min_score is None else f"{self.min_score:g}"),
                           ("max_score", "" if self.max_score is None else f"{self.max_score:g}"),
                           ("decision", self.decision)):
            if value:
                out[key] = value
        if self.tags:
            out["tag"] = list(self.tags)
        return out

    def where(self) -> tuple[list[str], list[Any]]:
        conds: list[str] = []
        args: list[Any] = []
        if self.cee:
            conds.append("cee = 1")
        if self.known == "new":
            conds.append("known = 0")
        elif self.known == "known":
            conds.append("known = 1")
        if self.country:
            conds.append("country = ?")
            args.append(self.country)
        if self.lang:
            conds.append("EXISTS (SELECT 1 FROM json_each(candidates.languages) WHERE value = ?)")
            args.append(self.lang)
        if self.min_score is not None:
            conds.append("score >= ?")
            args.append(self.min_score)
        if self.max_score is not None:
            conds.append("score <= ?")
            args.append(self.max_score)
        for t in self.tags:
            fam, lab = t.split(":", 1)
            conds.append("EXISTS (SELECT 1 FROM json_each(candidates.tags, ?) WHERE value = ?)")
            args.extend([f"$.{fam}", lab])
        if self.only_sites is not None:
            conds.append("site IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(self.only_sites))
        if self.except_sites:
            conds.append("site NOT IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(self.except_sites))
        if self.q:
            like = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            conds.append("(site LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\' OR known_name LIKE ? ESCAPE '\\')")
            args.extend([like, like, like])
        return conds, args


_PAGE_COLUMNS = ("site, rank, score, components, country, cee, known, known_name, n_documents, "
                 "languages, tags, name")


#: sort columns that may hold NULL (a candidate without a name): SQLite sorts NULL first, and a row-value
#: comparison with NULL is never true, so their keyset conditions say where NULL rows stand
NULLABLE_SORTS = frozenset({"name"})


def _keyset(col: str, desc: bool, after: tuple[Any, str]) -> tuple[str, list[Any]]:
    """The condition "comes after ``after`` in the order by ``col`` (then site)", with its parameters."""
    op = "<" if desc else ">"
    if col == "rank":  # unique: no tie-break, so the (filter, rank) indexes answer it
        return f"rank {op} ?", [after[0]]
    if col in NULLABLE_SORTS:
        if after[0] is None:  # among the NULLs (first ascending, last descending)
            return f"(({col} IS NULL AND site {op} ?){'' if desc else f' OR {col} IS NOT NULL'})", [after[1]]
        if desc:  # the NULLs come after every value
            return f"(({col}, site) < (?, ?) OR {col} IS NULL)", [after[0], after[1]]
    return f"({col}, site) {op} (?, ?)", [after[0], after[1]]


def encode_cursor(value: Any, site: str) -> str:
    return base64.urlsafe_b64encode(json.dumps([value, site]).encode()).decode()


def decode_cursor(token: str) -> tuple[Any, str] | None:
    try:
        value, site = json.loads(base64.urlsafe_b64decode(token.encode()))
        return value, str(site)
    except (ValueError, TypeError):
        return None


class Catalog:
    """Queries over one scan store; one sqlite3 connection per instance (per request)."""

    def __init__(self, store_path: Path) -> None:
        self.path = store_path
        self.conn = connect_wal(store_path, timeout=30, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row

    @staticmethod
    def prepare(out_dir: Path) -> Path:
        """Open (creating if needed) the store and add the app's indexes; returns its path."""
        store = Store(out_dir)
        try:
            for sql in INDEXES:
                store.conn.execute(sql)
            store.conn.commit()
            return store.path
        finally:
            store.close()

    def close(self) -> None:
        self.conn.close()

    def _page_sql(self, f: Filters, sort: str, after: tuple[Any, str] | None, limit: int,
                  backwards: bool = False, *, columns: str = _PAGE_COLUMNS, offset: int = 0) -> tuple[str, list[Any]]:
        col, desc = SORTS.get(sort, SORTS["rank"])
        desc = desc != backwards  # walking backwards: the rows before ``after``, nearest first
        conds, args = f.where()
        unique = col == "rank"  # rank is unique: no tie-break column, so (filter, rank) indexes cover the order
        if after is not None:
            cond, key_args = _keyset(col, desc, after)
            conds.append(cond)
            args.extend(key_args)
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        d = "DESC" if desc else "ASC"
        order = f"rank {d}" if unique else f"{col} {d}, site {d}"
        sql = f"SELECT {columns} FROM candidates{where} ORDER BY {order} LIMIT ?"
        if offset:
            return sql + " OFFSET ?", args + [limit, offset]
        return sql, args + [limit]

    def page(self, f: Filters, sort: str = "rank", after: str = "", limit: int = 50) -> tuple[list[dict[str, Any]], str | None]:
        """One page of candidates and the cursor of the next page (None on the last)."""
        cur = decode_cursor(after) if after else None
        sql, args = self._page_sql(f, sort, cur, limit + 1)
        rows = [_decode(dict(r)) for r in self.conn.execute(sql, args)]
        nxt = None
        if len(rows) > limit:
            rows = rows[:limit]
            col = SORTS.get(sort, SORTS["rank"])[0]
            nxt = encode_cursor(rows[-1][col], rows[-1]["site"])
        return rows, nxt

    def page_at(self, f: Filters, sort: str, offset: int, limit: int = 50) -> list[dict[str, Any]]:
        """Rows ``offset`` to ``offset + limit - 1`` of the filtered order: the ranking's numbered pages.

        Why not ``OFFSET`` on the page query itself: the row before the page is
        found on the sort key alone (:meth:`_boundary`: an index walk that reads
        no candidate row where the filters allow, remembered per store state),
        and the page is then the same keyset query as :meth:`page`, whose plan
        the scale test checks.
        """
        key = None
        if offset > 0:
            key = self._boundary(f, sort, offset - 1)
            if key is None:  # past the end
                return []
        sql, args = self._page_sql(f, sort, key, limit)
        return [_decode(dict(r)) for r in self.conn.execute(sql, args)]

    def _boundary(self, f: Filters, sort: str, index: int) -> tuple[Any, str] | None:
        """The sort key of row ``index`` (0-based) in the filtered order, or None past the end."""
        col = SORTS.get(sort, SORTS["rank"])[0]
        sql, args = self._page_sql(f, sort, None, 1, columns=f"{col}, site", offset=index)

        def compute() -> tuple[Any, str] | None:
            row = self.conn.execute(sql, args).fetchone()
            return (row[0], row[1]) if row else None

        return self._cached(("boundary", sql, tuple(args)), compute)

    def position(self, f: Filters, sort: str, site: str) -> int | None:
        """How many candidates come before ``site`` in the filtered order (None: no such candidate).

        ``site`` itself need not match ``f`` (a candidate just decided under
        "pending"): the answer is where it stands, or would stand, in the order,
        so "back to the ranking" opens the page around it.
        """
        c = self.candidate(site)
        if c is None:
            return None
        col, desc = SORTS.get(sort, SORTS["rank"])
        conds, args = f.where()
        cond, key_args = _keyset(col, not desc, (c[col], site))  # before it: past it walking the other way
        where = " WHERE " + " AND ".join([*conds, cond])
        return int(self.conn.execute(f"SELECT COUNT(*) FROM candidates{where}", [*args, *key_args]).fetchone()[0])

    def neighbours(self, f: Filters, sort: str, site: str) -> tuple[str | None, str | None]:
        """The sites before and after ``site`` in the filtered order (``site`` itself need not match ``f``:
        after a decision under "pending", the next pending candidate is still found)."""
        c = self.candidate(site)
        if c is None:
            return None, None
        col = SORTS.get(sort, SORTS["rank"])[0]
        key = (c[col], site)
        out = []
        for backwards in (True, False):
            sql, args = self._page_sql(f, sort, key, 1, backwards=backwards)
            row = self.conn.execute(sql, args).fetchone()
            out.append(row["site"] if row else None)
        return out[0], out[1]

    def explain(self, f: Filters, sort: str = "rank", after: str = "", limit: int = 50) -> list[str]:
        cur = decode_cursor(after) if after else None
        sql, args = self._page_sql(f, sort, cur, limit + 1)
        return [r["detail"] for r in self.conn.execute("EXPLAIN QUERY PLAN " + sql, args)]

    def explain_boundary(self, f: Filters, sort: str, index: int) -> list[str]:
        """The query plan of :meth:`_boundary` (the scale test checks it sorts nothing)."""
        col = SORTS.get(sort, SORTS["rank"])[0]
        sql, args = self._page_sql(f, sort, None, 1, columns=f"{col}, site", offset=index)
        return [r["detail"] for r in self.conn.execute("EXPLAIN QUERY PLAN " + sql, args)]

    def iter_filtered(self, f: Filters, sort: str = "rank") -> Iterator[dict[str, Any]]:
        after = ""
        while True:
            rows, after = self.page(f, sort, after, 1000)
            yield from rows
            if not after:
                return

    def _stamp(self) -> tuple[str, str]:
        """What identifies this store's candidates: they change only when a scan or discovery run writes them."""
        row = self.conn.execute("SELECT id FROM runs ORDER BY started DESC, id DESC LIMIT 1").fetchone()
        n = self.conn.execute("SELECT MAX(rowid) FROM candidates").fetchone()[0]
        return str(self.path), f"{row[0] if row else ''}:{n}"

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, remembered per store state (whole-table counts and facets cost ~100 ms at 100k)."""
        full = (self._stamp(), key)
        with _CACHE_LOCK:
            if full in _CACHE:
                _CACHE.move_to_end(full)
                return _CACHE[full]
        value = compute()
        with _CACHE_LOCK:
            _CACHE[full] = value
            while len(_CACHE) > _CACHE_SIZE:
                _CACHE.popitem(last=False)
        return value

    def count(self, f: Filters) -> int:
        conds, args = f.where()
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        sql = f"SELECT COUNT(*) FROM candidates{where}"
        return self._cached(("count", sql, tuple(args)),
                            lambda: int(self.conn.execute(sql, args).fetchone()[0]))

    def candidate(self, site: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM candidates WHERE site = ?", (site,)).fetchone()
        return _decode(dict(row)) if row else None

    def documents_of(self, site: str, limit: int = 200) -> list[dict[str, Any]]:
        """The documents of candidate ``site``: the pages that count for it (third-party pages
        attached to it included) and the site's own pages, each with what it is about and who wrote it."""
        rows = self.conn.execute(_DOCUMENTS_OF, (site, site, limit))
        out = []
        for r in rows:
            d = dict(r)
            role = d.pop("role")
            d["subject"] = {"self": "self-description", "third_party": f"third-party ({d['site']})",
                            "topic": "about a topic", "unscored": "not scored"}.get(role or "", "")
            out.append(d)
        return out

    def explain_documents_of(self, site: str) -> list[str]:
        """The query plan of :meth:`documents_of` (tests check it looks documents up by index)."""
        return [r["detail"] for r in self.conn.execute("EXPLAIN QUERY PLAN " + _DOCUMENTS_OF, (site, site, 200))]

    def cue_evidence(self, site: str, limit: int = 8) -> list[dict[str, Any]]:
        """The site's passages with the most cue matches (works without a classifier)."""
        rows = self.conn.execute(
            # CROSS JOIN fixes the loop order: the site's documents by index, then their passages by key
            # (the planner otherwise walked every passage of the store: ~200 ms at 1M documents)
            "SELECT p.doc_id, p.idx, p.start, p.text, p.spans, d.url, d.source, d.offset FROM documents d "
            "CROSS JOIN passages p ON p.doc_id = d.id WHERE d.site = ? AND +d.status = 'ok' AND d.dup_of IS NULL "
            "AND p.spans IS NOT NULL AND p.spans != '[]' LIMIT 2000", (site,))
        out = []
        for r in rows:
            spans = json.loads(r["spans"] or "[]")
            rel = [{**s, "start": s["start"] - r["start"], "end": s["end"] - r["start"]} for s in spans]
            out.append({"doc_id": r["doc_id"], "passage": r["idx"], "text": r["text"], "spans": rel,
                        "url": r["url"], "source": source_ref(r["source"], r["offset"]),
                        "groups": sorted({s["family"] for s in spans})})
        out.sort(key=lambda e: (-len(e["groups"]), -len(e["spans"]), e["doc_id"], e["passage"]))
        return out[:limit]

    def document(self, doc_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return dict(row) if row else None

    def passages(self, doc_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute("SELECT idx, start, \"end\", text, spans FROM passages WHERE doc_id = ? ORDER BY idx",
                                 (doc_id,))
        out = []
        for r in rows:
            spans = json.loads(r["spans"] or "[]")
            rel = [{**s, "start": s["start"] - r["start"], "end": s["end"] - r["start"]} for s in spans]
            out.append({**dict(r), "spans": spans, "rel_spans": rel})
        return out

    def facets(self) -> dict[str, list[Any]]:
        return self._cached(("facets",), self._facets)

    def _facets(self) -> dict[str, list[Any]]:
        countries = [r[0] for r in self.conn.execute(
            "SELECT DISTINCT country FROM candidates WHERE country IS NOT NULL AND country != '' ORDER BY 1")]
        langs = [r[0] for r in self.conn.execute(
            "SELECT DISTINCT j.value FROM candidates, json_each(candidates.languages) j ORDER BY 1 LIMIT 100")]
        return {"countries": countries, "languages": langs}

    def overview(self) -> dict[str, Any]:
        c = self.conn
        by_country = [(r[0] or "?", r[1], r[2]) for r in c.execute(
            "SELECT country, COUNT(*), SUM(cee) FROM candidates GROUP BY country ORDER BY 2 DESC, 1 LIMIT 40")]
        bins = [0] * 10
        for b, n in c.execute("SELECT MIN(CAST(score * 10 AS INTEGER), 9), COUNT(*) FROM candidates GROUP BY 1"):
            bins[max(0, min(9, int(b or 0)))] += n
        mix = {f: {} for f in FAMILIES}
        for fam, lab, n in c.execute(
                "SELECT f.key, l.value, COUNT(*) FROM candidates, json_each(candidates.tags) f, "
                "json_each(f.value) l GROUP BY 1, 2"):
            if fam in mix:
                mix[fam][lab] = n
        total = c.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
        return {"by_country": by_country, "score_bins": bins, "label_mix": mix, "total": total}

    def run_info(self) -> dict[str, Any]:
        """The latest finished run: id, version and a model version string for decisions."""
        row = self.conn.execute("SELECT id, version, manifest FROM runs ORDER BY started DESC LIMIT 1").fetchone()
        if row is None:
            return {"run_id": "", "model_version": "no scan run"}
        manifest = json.loads(row["manifest"] or "{}")
        models = manifest.get("models") or {}
        if models.get("classify"):
            cards = models.get("models") or {}
            tag = json.dumps(cards, sort_keys=True, default=str)
            import hashlib

            mv = f"csei-nlp {row['version']}, models {hashlib.sha256(tag.encode()).hexdigest()[:10]}"
        else:
            mv = f"csei-nlp {row['version']}, cues only (no classifier)"
        return {"run_id": row["id"], "model_version": mv}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    for k in ("components", "languages", "tags", "evidence", "explanations"):
        if isinstance(row.get(k), str):
            row[k] = json.loads(row[k])
    return row
