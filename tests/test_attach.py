"""Candidates are organisations: self, third-party and topic pages each count where they should."""
from __future__ import annotations

from csei_nlp.aggregate import build_profiles
from csei_nlp.attach import Attacher, role_of
from csei_nlp.pipeline.mentions import mentioned_domains
from csei_nlp.store.sqlite import Store
from csei_nlp.types import Document, Passage


def test_roles_from_page_models():
    assert role_of({}) == "unscored"
    assert role_of({"subject_prob": 0.2, "third_party_prob": 0.9}) == "topic"
    assert role_of({"subject_prob": 0.8, "third_party_prob": 0.1}) == "self"
    assert role_of({"subject_prob": 0.8, "third_party_prob": 0.7}) == "third_party"


def test_mentioned_domains_leave_out_platforms_and_the_own_site():
    text = ("Więcej informacji: www.klasterblizej.pl oraz https://www.facebook.com/klasterblizej. "
            "Kontakt: biuro@klasterblizej.pl. Czytaj też na zgwiadomosci.pl")
    got = mentioned_domains(text, ["https://klasterblizej.pl/o-nas", "https://zgwiadomosci.pl/sport"],
                            own_site="zgwiadomosci.pl")
    assert got[0] == ["klasterblizej.pl", 3]
    assert all(d not in ("facebook.com", "zgwiadomosci.pl") for d, _ in got)


def test_third_party_page_attaches_by_domain_then_name_else_stays_with_its_site():
    a = Attacher({"klasterblizej.pl": "Klaster Usług Opiekuńczych Bliżej", "pole-sud.fr": "Pôle Sud Coop"})
    third = {"subject_prob": 0.9, "third_party_prob": 0.9}
    by_domain = a.attach("gazeta.pl", {**third, "mentioned_domains": [["klasterblizej.pl", 1]]}, "")
    assert (by_domain.key, by_domain.matched_by) == ("klasterblizej.pl", "domain")
    by_name = a.attach("gazeta.pl", third, "Reportage: le Pôle Sud Coop ouvre une recyclerie.")
    assert (by_name.key, by_name.matched_by) == ("pole-sud.fr", "name")
    new_org = a.attach("gazeta.pl", {**third, "mentioned_domains": [["nowy-klaster.pl", 2]]}, "")
    assert (new_org.key, new_org.matched_by) == ("nowy-klaster.pl", "mentioned_domain")
    unknown = a.attach("gazeta.pl", third, "An article about a cluster with no address.")
    assert (unknown.key, unknown.role, unknown.matched_by) == ("gazeta.pl", "third_party", "none")
    own = a.attach("klasterblizej.pl", {"subject_prob": 0.9, "third_party_prob": 0.1}, "")
    assert (own.key, own.role) == ("klasterblizej.pl", "self")


def _doc(doc_id: str, site: str, url: str, title: str, text: str, meta: dict) -> Document:
    d = Document(id=doc_id, source=f"/crawl/{doc_id}.html", url=url, site=site, title=title, text=text,
                 lang="pl", status="ok")
    d.meta.update(meta)
    d.labels = {"helix": {"social_economy": 0.9}}
    d.passages = [Passage(doc_id=doc_id, index=0, start=0, end=len(text), text=text, lang="pl", n_tokens=10,
                          labels={"helix": {"social_economy": 0.9}})]
    return d


def test_profiles_count_articles_for_the_organisation_and_topics_for_nobody(tmp_path):
    store = Store(tmp_path / "s.sqlite")
    own = _doc("own", "klasterblizej.pl", "https://klasterblizej.pl/", "O nas | Klaster Bliżej",
               "Klaster Bliżej łączy spółdzielnie socjalne i gminę.",
               {"subject_prob": 0.95, "third_party_prob": 0.05, "candidate_prob": 0.9})
    article = _doc("art", "zgwiadomosci.pl", "https://zgwiadomosci.pl/a", "Klaster otworzył dom",
                   "Klaster Bliżej otworzył dom dziennego pobytu. Więcej: www.klasterblizej.pl",
                   {"subject_prob": 0.9, "third_party_prob": 0.9, "candidate_prob": 0.8,
                    "mentioned_domains": [["klasterblizej.pl", 1]]})
    topic = _doc("topic", "zgwiadomosci.pl", "https://zgwiadomosci.pl/b", "Ekonomia społeczna w regionie",
                 "Przegląd: spółdzielnie socjalne, klastry i samorządy w regionie.",
                 {"subject_prob": 0.1, "third_party_prob": 0.5, "candidate_prob": 0.3})
    store.put_documents([own, article, topic], "run")
    profiles = build_profiles(store, {"helix": {"social_economy": 0.5}})
    assert set(profiles) == {"klasterblizej.pl"}  # the newspaper is not a candidate
    prof = profiles["klasterblizej.pl"]
    assert sorted(prof.doc_ids) == ["art", "own"]
    assert prof.roles == {"self": 1, "third_party": 1} and prof.third_party_sites == ["zgwiadomosci.pl"]
    ev = prof.evidence()["helix"]["social_economy"]
    assert {(e["doc_id"], e["role"], e["source_site"]) for e in ev} == {
        ("own", "self", "klasterblizej.pl"), ("art", "third_party", "zgwiadomosci.pl")}
    metas = {r["id"]: r["meta"] for r in store.document_rows()}
    assert metas["art"]["candidate"] == "klasterblizej.pl" and metas["art"]["matched_by"] == "domain"
    assert metas["topic"]["role"] == "topic"


def test_a_page_the_candidate_model_finds_about_one_csei_is_no_topic_unless_the_subject_is_certain():
    # real third-party articles the subject model (trained on written pages) calls topics
    assert role_of({"subject_prob": 0.3, "candidate_prob": 0.7, "third_party_prob": 0.9}) == "third_party"
    assert role_of({"subject_prob": 0.3, "candidate_prob": 0.7, "third_party_prob": 0.1}) == "self"
    assert role_of({"subject_prob": 0.3, "candidate_prob": 0.4}) == "topic"
    # a general report that names many cases: the subject model is all but certain
    assert role_of({"subject_prob": 0.002, "candidate_prob": 0.77, "third_party_prob": 1.0}) == "topic"


def test_the_site_gate_follows_the_page_and_old_stores_keep_the_subject_gate():
    from csei_nlp.aggregate import SiteProfile
    from csei_nlp.rank import components, score

    ungated, old = SiteProfile(site="a.eu"), SiteProfile(site="b.eu")
    meta = {"subject_prob": 0.6, "candidate_prob": 0.8, "third_party_prob": 0.1}
    ungated.add_scores("d1", "en", 100, {**meta, "site_gate": 1.0}, {}, [])
    old.add_scores("d2", "en", 100, meta, {}, [])  # scanned before site_gate existed
    assert (ungated.gate, old.gate) == (1.0, 0.6)
    w = {"classifier": 1.0}
    assert score(components(ungated), w, ungated.gate) == 0.8
    assert abs(score(components(old), w, old.gate) - 0.48) < 1e-9


def test_under_a_model_trained_on_published_pages_only_a_certain_topic_is_a_topic():
    from csei_nlp.attach import SUBJECT_TOPIC_CERTAIN, TOPIC_GATE_FLOOR, topic_gate

    ungated = {"subject_gated": False, "third_party_prob": 0.1}
    # a regional newspaper's article on one cluster: subject model unsure, candidate model too
    assert role_of({**ungated, "subject_prob": 0.1, "candidate_prob": 0.3}) == "self"
    assert role_of({**ungated, "subject_prob": 0.1, "candidate_prob": 0.3, "third_party_prob": 0.9}) == "third_party"
    # the same page under a model trained on written pages only stays a topic
    assert role_of({"subject_gated": True, "subject_prob": 0.1, "candidate_prob": 0.3}) == "topic"
    # a general report: the subject model is all but certain, whatever the candidate model says
    assert role_of({**ungated, "subject_prob": SUBJECT_TOPIC_CERTAIN / 10, "candidate_prob": 0.9}) == "topic"
    # the soft gate: a doubted page keeps at least TOPIC_GATE_FLOOR of its score; a gated model multiplies
    assert topic_gate(0.0, gated=False) == TOPIC_GATE_FLOOR
    assert topic_gate(0.1, gated=False) == TOPIC_GATE_FLOOR + 0.1
    assert topic_gate(0.5, gated=False) == 1.0
    assert topic_gate(0.1, gated=True) == 0.1
