"""A scan's result shards: ``OUTDIR/shards/NNNNN.parquet``, documents with their passages and vectors.

Why: a scan of millions of pages runs for hours, and a stopped one must not
start again from nothing.  The driver writes every ``[scan] shard_docs``
finished documents (processed, tagged, deduplicated, in input order) to one
Parquet file, atomically, before it puts them into the SQLite store; the
shards of a scan are therefore always a prefix of its input stream.  A scan
started again into the same folder, with the same inputs and the same
processing fingerprint (:mod:`csei_nlp.fingerprints`), reads its documents
from the shards instead of processing them again; the SQLite store is the
merge of all shards.  The vectors of the embedded passages live only here.

A shard records the size and modification time of every input file it holds
documents of: a file changed since is processed again, from its first shard on.

Columns: the document's fields (dicts and lists as JSON text), ``passages``
(JSON: offsets, spans, labels; the passage text is the document's text at the
offsets) and ``vectors`` (list of float32 rows, one per embedded passage, in
passage order; null for a document that was not embedded).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np

from ..fsutil import atomic_open, atomic_write_text
from ..types import Document, Passage, Span

KEY_FILE = "_scan.json"
_META = b"csei_shard"
_JSON_FIELDS = ("links", "lang_scores", "lang_mix", "labels", "tags", "meta")
_PLAIN_FIELDS = tuple(f.name for f in fields(Document) if f.name not in _JSON_FIELDS + ("passages", "vectors"))


def _j(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _passage(p: Passage, text: str) -> dict[str, Any]:
    row = {"index": p.index, "start": p.start, "end": p.end, "lang": p.lang, "n_tokens": p.n_tokens,
           "spans": [s.to_dict() for s in p.spans], "labels": p.labels, "embedded": p.embedded,
           "skip_reason": p.skip_reason}
    if text[p.start:p.end] != p.text:
        row["text"] = p.text
    return row


def _file_stat(path: str) -> list[int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


class ShardFolder:
    """``OUTDIR/shards``: the shards of one scan, named by their position in the input stream."""

    def __init__(self, out_dir: str | Path) -> None:
        self.dir = Path(out_dir) / "shards"

    def path(self, k: int) -> Path:
        return self.dir / f"{k:05d}.parquet"

    def open(self, key: dict[str, Any], fresh: bool = False) -> int:
        """Start a scan with ``key`` (fingerprint, inputs, shard size); return how many shards can be reused.

        Shards of another key (or all, with ``fresh``) are removed.  Reusable shards
        are the unbroken run from ``00000``; the caller still checks their documents
        against the inputs (:meth:`read`).
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        key_path = self.dir / KEY_FILE
        old = None
        if key_path.is_file():
            try:
                old = json.loads(key_path.read_text("utf-8"))
            except (OSError, json.JSONDecodeError):
                old = None
        if fresh or old != key:
            self.drop_from(0)
            atomic_write_text(key_path, _j(key))
            return 0
        n = 0
        while self.path(n).is_file():
            n += 1
        self.drop_from(n)
        return n

    def drop_from(self, k: int) -> None:
        """Remove shard ``k`` and every later one (and leftovers of interrupted writes)."""
        if not self.dir.is_dir():
            return
        for p in self.dir.iterdir():
            stem = p.name.split(".", 1)[0]
            if p.name.startswith(".") and p.name.endswith(".tmp"):
                p.unlink(missing_ok=True)
            elif p.suffix == ".parquet" and stem.isdigit() and int(stem) >= k:
                p.unlink(missing_ok=True)

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, k: int, docs: list[Document], info: dict[str, Any] | None = None, dim: int = 0) -> None:
        """Write ``docs`` as shard ``k`` (atomically); ``info`` is kept in the file's metadata.

        ``dim``: the vector size (so that every shard has one schema); taken from the vectors when 0.
        """
        import pyarrow as pa
        import pyarrow.parquet as pq

        rows = []
        for d in docs:
            row = {name: getattr(d, name) for name in _PLAIN_FIELDS}
            row.update({name: _j(getattr(d, name)) for name in _JSON_FIELDS})
            row["passages"] = _j([_passage(p, d.text) for p in d.passages])
            rows.append(row)
        table = pa.Table.from_pylist(rows, schema=_schema(pa))
        table = table.append_column("vectors", _vectors_column(pa, docs, dim))
        sources = sorted({d.source for d in docs})
        meta = {"sources": {s: _file_stat(s) for s in sources}, **(info or {})}
        table = table.replace_schema_metadata({_META: _j(meta).encode()})
        with atomic_open(self.path(k), "wb") as fh:
            pq.write_table(table, fh, compression="zstd")

    def read(self, k: int) -> tuple[list[Document], dict[str, Any]] | None:
        """Shard ``k``'s documents and info; None when it is unreadable or one of its input files changed."""
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(self.path(k))
            meta = json.loads(table.schema.metadata[_META])
        except Exception:  # noqa: BLE001 - a damaged shard is processed again
            return None
        if any(_file_stat(src) != stat for src, stat in meta.get("sources", {}).items()):
            return None
        vectors = table.column("vectors").to_pylist() if table.num_rows else []
        docs = []
        for i, row in enumerate(table.drop_columns(["vectors"]).to_pylist()):
            kw = {name: row[name] for name in _PLAIN_FIELDS}
            kw.update({name: json.loads(row[name]) for name in _JSON_FIELDS})
            d = Document(**kw)
            for p in json.loads(row["passages"]):
                spans = [Span(**s) for s in p.pop("spans")]
                text = p.pop("text", None)
                d.passages.append(Passage(doc_id=d.id, text=d.text[p["start"]:p["end"]] if text is None else text,
                                          spans=spans, **p))
            if vectors[i] is not None:
                d.vectors = np.asarray(vectors[i], dtype=np.float32).reshape(len(vectors[i]), -1)
            docs.append(d)
        return docs, meta


def _schema(pa: Any) -> Any:
    types = {"offset": pa.int64()}
    cols = [pa.field(name, types.get(name, pa.string())) for name in _PLAIN_FIELDS]
    cols += [pa.field(name, pa.string()) for name in _JSON_FIELDS]
    cols.append(pa.field("passages", pa.string()))
    return pa.schema(cols)


def _vectors_column(pa: Any, docs: list[Document], dim: int) -> Any:
    """list<fixed_size_list<float32, dim>>: each document's passage vectors, null when none."""
    dim = dim or next((int(d.vectors.shape[1]) for d in docs if d.vectors is not None and len(d.vectors)), 0)
    offsets, mask, blocks, n = [0], [], [], 0
    for d in docs:
        v = d.vectors
        present = v is not None and len(v) > 0
        if present:
            blocks.append(np.asarray(v, dtype=np.float32).reshape(-1))
            n += len(v)
        mask.append(not present)
        offsets.append(n)
    flat = np.concatenate(blocks) if blocks else np.zeros(0, np.float32)
    rows = pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), max(dim, 1))
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), rows, mask=pa.array(mask, pa.bool_()))
