"""documents.parquet: the rows of documents.jsonl as a typed, columnar table.

At crawl scale documents.jsonl holds millions of lines; analysts load it into
pandas, DuckDB or Spark, which read Parquet column by column, with real types
(integers, floats, booleans, maps of probabilities) instead of parsing JSON.
The table has exactly the rows and columns of documents.jsonl
(:func:`csei_nlp.report.outputs.document_line`), with a fixed schema, so every
run's file has the same columns whatever its documents hold.  Rows are written
in row groups of :data:`ROW_GROUP` as they stream out of the store, so memory
does not grow with the number of documents.

Dicts keyed by data (``lang_scores``, ``labels``, ``tags`` ...) are Parquet
maps; pyarrow reads a map back as a list of ``(key, value)`` pairs.
"""
from __future__ import annotations

from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

ROW_GROUP = 10_000

_STR, _F64, _I64 = pa.string(), pa.float64(), pa.int64()

SCHEMA = pa.schema([
    ("id", _STR),
    ("source", pa.struct([("path", _STR), ("offset", _I64)])),
    ("url", _STR), ("site", _STR), ("media", _STR), ("status", _STR), ("reason", _STR),
    ("lang", _STR), ("lang_scores", pa.map_(_STR, _F64)), ("lang_mix", pa.map_(_STR, _F64)),
    ("title", _STR), ("date", _STR), ("canonical_url", _STR), ("html_lang", _STR), ("fetch_date", _STR),
    ("n_chars", _I64), ("n_passages", _I64),
    ("content_hash", _STR), ("dup_of", _STR), ("near_dup_group", _STR),
    ("labels", pa.map_(_STR, pa.map_(_STR, _F64))),
    ("tags", pa.map_(_STR, pa.list_(_STR))),
    ("candidate_prob", _F64),
    ("subject", pa.struct([("label", _STR), ("p_organisation", _F64), ("voice", _STR),
                           ("p_third_party", _F64)])),
    ("counts_for", _STR), ("role", _STR),
    ("mentioned_domains", pa.list_(_STR)),
    ("embedded", pa.bool_()), ("not_embedded_reason", _STR),
])


def _arrow_value(typ: pa.DataType, value: Any) -> Any:
    """``value`` (as in documents.jsonl) in the shape pyarrow builds ``typ`` from: maps as (key, value) pairs."""
    if value is None:
        return None
    if isinstance(typ, pa.MapType):
        return [(k, _arrow_value(typ.item_type, v)) for k, v in value.items()]
    return value


class DocumentsParquet:
    """Streams documents.jsonl rows into a Parquet file (an open binary file handle), a row group at a time."""

    def __init__(self, fh: IO[bytes], row_group: int = ROW_GROUP) -> None:
        self._writer = pq.ParquetWriter(fh, SCHEMA, compression="zstd")
        self._row_group = row_group
        self._rows: list[dict[str, Any]] = []

    def add(self, line: dict[str, Any]) -> None:
        """Add one documents.jsonl row (its keys must be the schema's columns)."""
        if line.keys() != set(SCHEMA.names):
            raise ValueError(f"documents.parquet: columns {sorted(set(line) ^ set(SCHEMA.names))} "
                             f"differ from the schema")
        self._rows.append({f.name: _arrow_value(f.type, line[f.name]) for f in SCHEMA})
        if len(self._rows) >= self._row_group:
            self._flush()

    def _flush(self) -> None:
        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=SCHEMA), row_group_size=self._row_group)
            self._rows = []

    def close(self) -> None:
        """Write the last row group and the file footer (the handle stays open: its owner closes it)."""
        self._flush()
        self._writer.close()
