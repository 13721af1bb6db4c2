"""End-to-end `csei scan` on a small corpus of good and bad inputs.

Every input must end as exactly one documents.jsonl line, ok or recorded as
skipped/failed with the right reason, and the batch must finish.
"""
from __future__ import annotations

import gzip
import io
import json
import shutil
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.cli import main as cli_main
from csei_nlp.scan import run_scan
from csei_nlp.store.sqlite import Store

PL_PAGE = """<!doctype html><html lang="pl"><head><meta charset="utf-8"><title>Klaster Ekonomii Społecznej Doliny Bugu</title>
<link rel="canonical" href="https://klaster-dolina-bugu.pl/o-nas/"></head><body>
<nav><a href="/">Start</a> <a href="/czlonkowie">Członkowie</a></nav>
<main><h1>O klastrze</h1>
<p>Klaster Ekonomii Społecznej Doliny Bugu zrzesza spółdzielnie socjalne, stowarzyszenia, lokalne firmy,
urząd gminy oraz szkołę zawodową z powiatu. Członkowie wspólnie prowadzą pralnię, catering i warsztaty
naprawy rowerów, dając pracę osobom długotrwale bezrobotnym.</p>
<p>Walne zgromadzenie członków wybiera radę klastra, a każdy członek ma jeden głos. Razem planujemy
projekty gospodarki obiegu zamkniętego i krótkie łańcuchy dostaw żywności w naszym regionie.</p>
</main><footer>Kontakt: biuro@klaster-dolina-bugu.pl</footer></body></html>"""

CS_PAGE_CP1250 = """<html><head><title>Sociální družstvo Žatec</title></head><body><div id="obsah">
<p>Sociální družstvo v Žatci zaměstnává lidi se zdravotním postižením v údržbě zeleně a v kavárně.
Spolupracujeme s městem, místní základní školou a několika firmami z okolí.</p>
<p>Členská schůze rozhoduje o rozdělení zisku, který se vrací do rozvoje služeb pro obyvatele.</p>
</div></body></html>"""


def _warc_bytes(pages: list[tuple[str, bytes]]) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    for url, body in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    return buf.getvalue()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, fixtures_dir: Path) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    (root / "web").mkdir()
    (root / "web" / "pl.html").write_text(PL_PAGE, encoding="utf-8")
    (root / "web" / "cs-no-meta.html").write_bytes(CS_PAGE_CP1250.encode("cp1250"))
    (root / "web" / "empty.html").write_bytes(b"")
    (root / "web" / "binary.html").write_bytes(bytes(range(256)) * 64)
    big = "<html><body><p>" + ("Spółdzielnia socjalna. " * 2_300_000) + "</p></body></html>"
    (root / "web" / "huge.html").write_text(big, encoding="utf-8")
    assert (root / "web" / "huge.html").stat().st_size > 50_000_000
    near = PL_PAGE.replace("o-nas/", "o-nas/?print=1").replace("pralnię,", "pralnię i suszarnię,")
    (root / "pl-print.html").write_text(near, encoding="utf-8")
    second = PL_PAGE.replace("O klastrze", "Aktualności").replace("pralnię", "stołówkę")
    warc = _warc_bytes([("https://klaster-dolina-bugu.pl/aktualnosci/", second.encode()),
                        ("https://klaster-dolina-bugu.pl/o-nas/", PL_PAGE.encode())])
    (root / "crawl.warc.gz").write_bytes(warc)
    # cut inside the second record: the first must still be used
    (root / "cut.warc.gz").write_bytes(warc[: len(warc) - 200])
    pdf_dir = fixtures_dir / "pdf"
    for name in ("encrypted.pdf", "truncated.pdf", "scanned.pdf", "two_column.pdf"):
        shutil.copy(pdf_dir / name, root / name)
    return root


@pytest.fixture(scope="module")
def scanned(corpus: Path, tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("out")
    cfg = config.load(overrides={"classify": {"enabled": False}, "scan": {"workers": 2}})
    summary = run_scan([corpus], out, cfg)
    return out, summary


def _lines(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text("utf-8").splitlines() if l.strip()]


def _by_name(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in docs:
        out.setdefault(Path(d["source"]["path"]).name, []).append(d)
    return out


def test_every_input_accounted_for(scanned):
    out, summary = scanned
    docs = _lines(out / "documents.jsonl")
    fails = _lines(out / "failures.jsonl")
    assert summary.ok + summary.skipped + summary.failed == summary.seen == len(docs)
    assert len(fails) == summary.skipped + summary.failed
    run = json.loads((out / "run.json").read_text())
    assert run["counts"]["seen"] == len(docs)
    assert set(run["input_hashes"]) >= {str(p) for p in Path(docs[0]["source"]["path"]).parent.glob("*.html")} - set()


@pytest.mark.parametrize("name, status, reasons", [
    ("empty.html", "skipped", {"empty"}),
    ("binary.html", "failed", {"binary"}),
    ("huge.html", "skipped", {"too_large"}),
    ("encrypted.pdf", "failed", {"encrypted"}),
    ("truncated.pdf", "failed", {"corrupt", "truncated"}),
    ("scanned.pdf", None, {"no_text_layer"}),
])
def test_bad_inputs_get_the_right_status(scanned, name, status, reasons):
    out, _ = scanned
    docs = _by_name(_lines(out / "documents.jsonl"))[name]
    assert len(docs) == 1
    if status:
        assert docs[0]["status"] == status
    assert docs[0]["status"] != "ok"
    assert docs[0]["reason"] in reasons
    fails = {Path(f["source"]).name: f for f in _lines(out / "failures.jsonl")}
    assert name in fails[name]["detail"], "the failure detail must name the file"


def test_truncated_warc_keeps_records_before_the_cut(scanned):
    out, _ = scanned
    docs = _by_name(_lines(out / "documents.jsonl"))["cut.warc.gz"]
    ok = [d for d in docs if d["status"] == "ok"]
    bad = [d for d in docs if d["status"] == "failed"]
    assert len(ok) >= 1 and ok[0]["url"] == "https://klaster-dolina-bugu.pl/aktualnosci/"
    assert [d["reason"] for d in bad] == ["truncated"]
    assert all(d["source"]["offset"] is not None for d in docs)


def test_good_documents_have_language_site_and_passages(scanned):
    out, _ = scanned
    by = _by_name(_lines(out / "documents.jsonl"))
    pl = by["pl.html"][0]
    assert pl["status"] == "ok" and pl["lang"] == "pl"
    assert pl["site"] == "klaster-dolina-bugu.pl"  # from the canonical link, no URL given
    assert pl["n_passages"] >= 1 and pl["title"]
    cs = by["cs-no-meta.html"][0]
    assert cs["status"] == "ok" and cs["lang"] == "cs"
    with Store(out) as store:
        row = next(r for r in store.document_rows(with_text=True) if r["id"] == cs["id"])
        assert "Sociální družstvo v Žatci zaměstnává" in row["text"]
        for p in store.passages_of(pl["id"]):
            assert row is not None
        text = next(r for r in store.document_rows(with_text=True) if r["id"] == pl["id"])["text"]
        for p in store.passages_of(pl["id"]):
            assert text[p.start:p.end] == p.text
            for s in p.spans:
                assert text[s.start:s.end] == s.text


def test_exact_duplicates_are_grouped_not_dropped(scanned):
    out, _ = scanned
    docs = [d for d in _lines(out / "documents.jsonl") if d["status"] == "ok"]
    same = [d for d in docs if d["url"] == "https://klaster-dolina-bugu.pl/o-nas/" or
            Path(d["source"]["path"]).name == "pl.html"]
    # pl.html and its copy in crawl.warc.gz; in cut.warc.gz that record is the truncated one
    assert sorted(Path(d["source"]["path"]).name for d in same) == ["crawl.warc.gz", "pl.html"]
    firsts = [d for d in same if d["dup_of"] is None]
    assert len(firsts) == 1
    assert all(d["dup_of"] == firsts[0]["id"] for d in same if d is not firsts[0])


def test_near_duplicates_share_one_group_first_member_included(scanned):
    out, _ = scanned
    by = _by_name(_lines(out / "documents.jsonl"))
    first, near = by["pl.html"][0], by["pl-print.html"][0]
    assert near["dup_of"] is None  # not identical ...
    assert near["near_dup_group"] is not None  # ... but nearly
    assert first["near_dup_group"] == near["near_dup_group"]
    # the group is named after its first member, which must be labelled too
    leader = next(d for d in _lines(out / "documents.jsonl") if d["id"] == near["near_dup_group"])
    assert leader["near_dup_group"] == leader["id"]


def test_rerun_is_idempotent(corpus, scanned, tmp_path):
    out, summary = scanned
    before = (out / "documents.jsonl").read_text()
    cfg = config.load(overrides={"classify": {"enabled": False}, "scan": {"workers": 1}})
    again = run_scan([corpus], out, cfg)
    assert (again.seen, again.ok, again.failed) == (summary.seen, summary.ok, summary.failed)
    assert (out / "documents.jsonl").read_text() == before
    with Store(out) as store:
        assert sum(store.counts().values()) == summary.seen
        assert len(store.runs()) == 2


def test_cli_prints_summary_and_strict_exit_code(corpus, tmp_path, capsys):
    rc = cli_main(["scan", str(corpus / "web"), "--out", str(tmp_path / "o"), "--no-classify", "--strict"])
    printed = capsys.readouterr().out
    assert rc == 1  # binary.html failed
    assert "inputs seen: 5" in printed and "binary" in printed
    rc = cli_main(["scan", str(corpus / "web" / "pl.html"), "--out", str(tmp_path / "o2"), "--no-classify",
                   "--strict", "--quiet"])
    assert rc == 0
    assert capsys.readouterr().out == ""


def test_cli_bad_config_fails_fast(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[scan]\nworkers = -1\n")
    rc = cli_main(["scan", str(tmp_path), "--out", str(tmp_path / "o"), "--config", str(bad)])
    assert rc == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "workers" in err
    assert not (tmp_path / "o").exists()
