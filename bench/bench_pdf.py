"""pdfplumber vs pypdfium2 for PDF reading: speed and text quality, side by side.

    python bench/bench_pdf.py [--repeat 3]

Reads the sample-corpus reports (corpora/sample/reports/*.pdf) and the text
fixtures (tests/fixtures/pdf) with four readers, in one run on one machine:

* ``extract_pdf`` with engine pdfplumber (the default) and with pypdfium2: our
  column detection, clean-up and statuses on top of each library;
* each library's own plain text (``page.extract_text()`` / ``get_text_range()``),
  to show what the layout step adds and costs.

Speed is pages per second over all PDFs (best of ``--repeat`` passes) and the
ratio to the default.  Quality is measured where the drawn text is known: the
two-column fixture and the Slovak two-column newsletter.  ``word order`` is the
normalised Indel similarity of the word sequences (1.0: same words in the same
order; interleaved columns lower it), ``chars`` the same on characters.
Prints a markdown table and writes it to bench/results/pdf.md.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import io
import os
import platform
import re
import sys
import time
from pathlib import Path

from rapidfuzz.distance import Indel

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from csei_nlp import config  # noqa: E402
from csei_nlp.pipeline.extract.pdf import extract_pdf  # noqa: E402

FIXTURES = REPO / "tests" / "fixtures" / "pdf"
REPORTS = REPO / "corpora" / "sample" / "reports"
TEXT_FIXTURES = [
    "single_column.pdf", "two_column.pdf", "two_column_row_by_row.pdf", "ligatures.pdf"
]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def references() -> dict[str, str]:
    fx = _load(FIXTURES / "make_fixtures.py", "pdf_fixture_source")
    tools = _load(REPO / "corpora" / "tools" / "make_pdfs.py", "sample_pdf_source")
    news = [tools.NEWSLETTER_TITLE, tools.NEWSLETTER_SUBTITLE] + [t for _, t in tools.NEWSLETTER]
    two = " ".join([fx.TWO_COLUMN_TITLE, *fx.TWO_COLUMN_LEFT, *fx.TWO_COLUMN_RIGHT, fx.TWO_COLUMN_FOOTER])
    return {
        "two_column.pdf": two,
        "two_column_row_by_row.pdf": two,
        "spravodajca_partnerstvo_dolna_luka.pdf": " ".join(news),
    }


def plumber_raw(data: bytes) -> str:
    import pdfplumber

    out = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        for page in pdf.pages:
            out.append(page.extract_text() or "")
            page.close()
    return "\n\n".join(out)


def pdfium_raw(data: bytes) -> str:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(data)
    out = []
    for i in range(len(doc)):
        page = doc[i]
        tp = page.get_textpage()
        out.append(tp.get_text_range())
        tp.close()
        page.close()
    doc.close()
    return "\n\n".join(out)


def csei(engine: str):
    cfg = config.load(overrides={"pdf": {"engine": engine}})

    def run(data: bytes) -> str:
        return extract_pdf(data, "bench.pdf", cfg).text

    return run


READERS = {
    "extract_pdf, engine=pdfplumber (default)": csei("pdfplumber"),
    "extract_pdf, engine=pypdfium2": csei("pypdfium2"),
    "pdfplumber extract_text() (raw)": plumber_raw,
    "pypdfium2 get_text_range() (raw)": pdfium_raw,
}


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def main() -> None:
    ap = argparse.ArgumentParser(description="pdfplumber vs pypdfium2")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import pypdfium2 as pdfium

    files = sorted(REPORTS.glob("*.pdf")) + [FIXTURES / n for n in TEXT_FIXTURES]
    blobs = {p.name: p.read_bytes() for p in files}
    n_pages = sum(len(pdfium.PdfDocument(b)) for b in blobs.values())
    refs = references()

    rows = []
    for label, reader in READERS.items():
        best = float("inf")
        texts: dict[str, str] = {}
        for _ in range(args.repeat):
            start = time.perf_counter()
            for name, data in blobs.items():
                texts[name] = reader(data)
            best = min(best, time.perf_counter() - start)
        quality = {}
        for name, ref in refs.items():
            got = texts[name]
            quality[name] = (
                Indel.normalized_similarity(words(ref), words(got)),
                Indel.normalized_similarity(" ".join(ref.split()), " ".join(got.split())),
            )
        rows.append((label, n_pages / best, best, quality))

    base = rows[0][1]
    import pdfplumber

    lines = [
        f"PDF reading benchmark: {len(files)} PDFs, {n_pages} pages, best of {args.repeat} passes; "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, pdfplumber {pdfplumber.__version__}, "
        f"pypdfium2 {importlib.metadata.version('pypdfium2')}.",
        "",
        "| reader | pages/s | speed vs default | two-column: word order / chars "
        "| two-column, row-by-row stream: word order / chars | Slovak newsletter: word order / chars |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, pps, _secs, q in rows:
        cells = " | ".join(f"{q[n][0]:.3f} / {q[n][1]:.3f}" for n in refs)
        lines.append(f"| {label} | {pps:.1f} | {pps / base:.2f}x | {cells} |")
    table = "\n".join(lines) + "\n"
    print(table)
    out = REPO / "bench" / "results" / "pdf.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table, "utf-8")


if __name__ == "__main__":
    main()
