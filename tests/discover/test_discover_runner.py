"""Discovery runs end to end on a small corpus copied from corpora/sample: incremental
processing, the change report, the run history and the command line."""
from __future__ import annotations

import csv
import io
import os
import sqlite3
from pathlib import Path

import pytest

from csei_nlp.discover.job import load_job
from csei_nlp.discover.runner import run_job
from csei_nlp.discover.state import StateDB

ATOM = "{http://www.w3.org/2005/Atom}"


def _csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text("utf-8"))))


def test_incremental_runs_report_exactly_the_planted_new_candidates(tmp_path, helpers):
    job_file = helpers.write_job(tmp_path, shard_size=2)
    corpus = tmp_path / "corpus"
    first = helpers.add_sites(corpus, helpers.batch1)
    job = load_job(job_file)

    r1 = run_job(job)
    assert r1.exit_code == 0 and r1.status == "ok"
    assert sorted(r1.new_files) == first
    sites1 = {row["site"] for row in _csv(job.state_dir / "candidates.csv")}
    assert sites1 == set(helpers.batch1)
    assert {c["site"] for c in r1.changes} == sites1 and {c["change"] for c in r1.changes} == {"new"}

    # plant two new organisations: one in France, one in Slovakia (CEE)
    planted = helpers.add_sites(corpus, helpers.batch2)
    r2 = run_job(job)
    assert r2.exit_code == 0
    assert sorted(r2.new_files) == planted  # only the new files were processed
    st = StateDB(job.state_dir)
    shard_files = sorted(f.path for s in st.shards_of_run(r2.run_id) for f in s.files)
    st.close()
    assert shard_files == planted
    rows = _csv(job.report_dir / "latest" / "new_candidates.csv")
    assert [(r["change"], r["site"], r["focus"]) for r in rows] == [
        ("new", "klaster-hornarieka.sk", "1"), ("new", "ptce-orvane.fr", "0")]
    assert rows[0]["cee"] == "1" and rows[0]["country"] == "SK"
    assert (job.report_dir / r2.run_id / "new_candidates.csv").read_bytes() == \
        (job.report_dir / "latest" / "new_candidates.csv").read_bytes()
    cands = _csv(job.state_dir / "candidates.csv")
    assert {c["site"] for c in cands} == set(helpers.batch1 + helpers.batch2)
    assert [int(c["rank"]) for c in cands] == list(range(1, len(cands) + 1))

    # the digest lists the CEE one first; the feed has one entry per change of both runs
    html = (job.report_dir / "latest" / "digest.html").read_text("utf-8")
    assert html.index("klaster-hornarieka.sk") < html.index("ptce-orvane.fr")
    feed2 = (job.report_dir / "latest" / "feed.xml").read_bytes()
    feed, entries = helpers.atom_entries(feed2)
    assert len(entries) == len(r1.changes) + 2
    st = StateDB(job.state_dir)
    assert feed.findtext(f"{ATOM}updated") == st.runs()[-1]["finished"]  # run 2's, its newest entry's
    st.close()

    # nothing new: nothing processed, nothing reported; a touched but unchanged file is not redone
    os.utime(planted[0], ns=(1_000_000_000, 1_000_000_000))
    r3 = run_job(job)
    assert r3.new_files == [] and r3.changes == []
    # ... and the feed is the same, byte for byte (its time does not move); the mail digest says so
    assert (job.report_dir / "latest" / "feed.xml").read_bytes() == feed2
    md = (job.report_dir / "latest" / "digest.md").read_text("utf-8")
    assert r3.run_id in md and "0 new, 0 rose, 0 fell, 0 disappeared." in md
    assert [l for l in md.splitlines() if l.startswith("## ")][-1].endswith("(0)")
    assert "No other score moved: 4 candidates of both runs kept their scores." in md
    assert "No other score moved: 4 candidates" in (job.report_dir / "latest" / "digest.html").read_text("utf-8")
    # a changed file is processed again, alone
    page = Path(first[0])
    page.write_text(page.read_text("utf-8").replace("</body>", "<p>Nowy akapit.</p></body>"), "utf-8")
    r4 = run_job(job)
    assert r4.new_files == [first[0]]
    # a vanished organisation is reported as disappeared (forget_missing = true)
    for p in (corpus / "gruenes-wiesenthal.de").iterdir():
        p.unlink()
    r5 = run_job(job)
    assert [(c["change"], c["site"]) for c in r5.changes] == [("disappeared", "gruenes-wiesenthal.de")]
    con = sqlite3.connect(job.state_dir / "store" / "csei.sqlite")
    assert con.execute("SELECT COUNT(*) FROM documents WHERE site='gruenes-wiesenthal.de'").fetchone()[0] == 0
    n_docs, n_ids = con.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM documents").fetchone()
    con.close()
    assert n_docs == n_ids == len(first) + len(planted) - 2

    # the history, through the command line
    out = helpers.run_cli("runs", "--job", str(job_file))
    assert out.returncode == 0
    lines = [l for l in out.stdout.splitlines() if l.startswith("2")]
    assert [l.split()[0] for l in lines] == [r.run_id for r in (r1, r2, r3, r4, r5)]
    st = StateDB(job.state_dir)
    runs = st.runs()
    st.close()
    assert [r["counts"]["new_or_changed"] for r in runs] == [len(first), len(planted), 0, 1, 0]
    assert all(r["status"] == "ok" and r["duration_s"] > 0 and r["models"]["models"] == "off" for r in runs)


def test_cli_is_silent_on_success_and_exits_2_on_bad_job(tmp_path, helpers):
    job_file = helpers.write_job(tmp_path)
    helpers.add_sites(tmp_path / "corpus", ["zelenalhota.cz"])
    ok = helpers.run_cli("discover", "--job", str(job_file))
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    verbose = helpers.run_cli("discover", "--job", str(job_file), "--verbose")
    assert verbose.returncode == 0 and "0 new or changed inputs" in verbose.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(job_file.read_text("utf-8").replace("shard_size", "shard_sise"), "utf-8")
    res = helpers.run_cli("discover", "--job", str(bad))
    assert res.returncode == 2 and str(bad) in res.stderr and "shard_sise" in res.stderr


def test_run_with_classification_on(tmp_path, helpers):
    from csei_nlp import config
    from csei_nlp.pipeline.classify import CARD_SUFFIX, resolve_models_dir

    mdir = resolve_models_dir(config.load().classify.models_dir)
    if not list(mdir.glob(f"*{CARD_SUFFIX}")):
        pytest.skip(f"no trained models in {mdir} (run `csei train`); classification cannot run")
    job_file = helpers.write_job(tmp_path, classify=True)
    helpers.add_sites(tmp_path / "corpus", ["klaster-borylipiny.pl"])
    res = run_job(load_job(job_file))
    assert res.exit_code == 0
    cands = _csv(load_job(job_file).state_dir / "candidates.csv")
    assert [c["site"] for c in cands] == ["klaster-borylipiny.pl"] and float(cands[0]["classifier"]) > 0
    st = StateDB(load_job(job_file).state_dir)
    assert st.runs()[0]["models"]["models"] != "off"
    st.close()


def test_new_models_rescore_every_input_and_the_digest_says_so(tmp_path, helpers):
    """After `csei train` (here: a changed model card), the next run rescans with the new models and says so."""
    import json
    import shutil

    from csei_nlp import config
    from csei_nlp.pipeline.classify import CARD_SUFFIX, resolve_models_dir

    shipped = resolve_models_dir(config.load().classify.models_dir)
    if not list(shipped.glob(f"*{CARD_SUFFIX}")):
        pytest.skip(f"no trained models in {shipped} (run `csei train`); classification cannot run")
    models = tmp_path / "models"
    shutil.copytree(shipped, models, ignore=shutil.ignore_patterns(".history"))
    job_file = helpers.write_job(tmp_path, classify=True)
    job_file.write_text(job_file.read_text("utf-8").replace(
        "[config.classify]\nenabled = true", f"[config.classify]\nenabled = true\nmodels_dir = {str(models)!r}"))
    helpers.add_sites(tmp_path / "corpus", ["klaster-borylipiny.pl"])
    first = run_job(load_job(job_file))
    assert first.exit_code == 0
    digest = (first.report_dir / "digest.html").read_text("utf-8")
    assert "The models changed" not in digest

    unchanged = run_job(load_job(job_file))  # same models: nothing to rescan, nothing to say
    assert unchanged.new_files == [] and "The models changed" not in (
        unchanged.report_dir / "digest.html").read_text("utf-8")

    # `csei train` replaced the models: a new candidate card, whose model wants the page subject gate
    card = models / f"candidate{CARD_SUFFIX}"
    meta = json.loads(card.read_text("utf-8"))
    meta["created"] = "2030-01-01T00:00:00+00:00"
    meta["subject_gate"] = True
    card.write_text(json.dumps(meta), "utf-8")
    before = float(_csv(load_job(job_file).state_dir / "candidates.csv")[0]["score"])
    second = run_job(load_job(job_file))
    assert second.exit_code == 0
    assert len(second.new_files) == len(first.new_files) > 0  # every input scored again
    after = float(_csv(load_job(job_file).state_dir / "candidates.csv")[0]["score"])
    assert after < before
    digest = (second.report_dir / "digest.html").read_text("utf-8")
    assert "The models changed" in digest and unchanged.run_id in digest and "2030-01-01" in digest
    # the mail digest says the same: which run, which files, how many inputs were scored again ...
    md = (second.report_dir / "digest.md").read_text("utf-8")
    para = next(l for l in md.splitlines() if l.startswith("**The models changed.**"))
    assert f"Since run {unchanged.run_id}, the model set" in para and "2030-01-01" in para
    assert f"Every input ({len(first.new_files)}) was scored again with the new models" in para
    assert "Changed model files: candidate.card.json." in md
    # ... and the score that moved without crossing the threshold (min_score 0) is in the moves summary
    moves = md[md.index("## Score moves that did not cross the threshold (1)"):]
    assert "1 of the 1 candidates of both runs moved without crossing the threshold: 0 up, 1 down" in moves
    row = [c.strip() for c in moves.splitlines()[-1].strip("|").split("|")]
    assert row[0] == "klaster-borylipiny.pl"
    assert (float(row[1]), float(row[2]), row[4]) == (round(before, 4), round(after, 4), "listed")
    assert float(row[3]) == pytest.approx(after - before, abs=2e-4)


def test_a_candidate_without_a_web_address_is_a_valid_feed_entry_linking_to_its_digest_row(tmp_path, helpers):
    """A folder of PDFs: the candidate is ``file:<path>``; its feed entry links to its row in the run's digest."""
    import shutil

    job_file = helpers.write_job(tmp_path)
    job_file.write_text(job_file.read_text("utf-8").replace("corpus/**/*.html", "corpus/**/*.pdf"), "utf-8")
    pdfs = tmp_path / "corpus" / "reports"
    pdfs.mkdir(parents=True)
    shutil.copy(helpers.sample_reports / "spravodajca_partnerstvo_dolna_luka.pdf", pdfs)
    res = run_job(load_job(job_file))
    assert res.exit_code == 0 and [c["site"] for c in res.changes] == [
        f"file:{(pdfs / 'spravodajca_partnerstvo_dolna_luka.pdf').resolve()}"]
    latest = res.report_dir.parent / "latest"
    _, entries = helpers.atom_entries((latest / "feed.xml").read_bytes())
    (entry,) = entries
    href = entry.find(f"{ATOM}link[@rel='alternate']").get("href")
    page, anchor = href.split("#")
    assert page == f"../{res.run_id}/digest.html"
    assert (latest / page).resolve() == (res.report_dir / "digest.html").resolve()  # from latest/ and <run>/ alike
    assert f'<tr id="{anchor}"' in (res.report_dir / "digest.html").read_text("utf-8")
    assert "spravodajca_partnerstvo_dolna_luka.pdf" in entry.find(f"{ATOM}content").text
