"""`csei queries`: every query works as typed into a search engine, and its specificity is measurable."""
from __future__ import annotations

import csv
import io
import json
import re
import unicodedata
from pathlib import Path

import pytest

from csei_nlp.discover.queries import build_queries, cee_languages, export, match_table, specificity
from csei_nlp.discover.query_forms import load_forms, term_matches
from csei_nlp.errors import ConfigError
from csei_nlp.pipeline.cues import available_languages, fold, load_terms

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rows():
    return list(build_queries())


def _phrases(query: str) -> list[str]:
    """The quoted phrases of a query; the whole query must be made of them."""
    phrases = re.findall(r'"([^"]+)"', query)
    assert re.sub(r'"[^"]+"', "", query).strip() == "", f"unquoted words in {query!r}"
    return phrases


def _script(text: str) -> set[str]:
    return {unicodedata.name(ch).split()[0] for ch in text if ch.isalpha()}


def test_every_query_is_quoted_whole_words_in_one_script(rows):
    assert rows
    for r in rows:
        q = r["query"]
        assert "*" not in q and "?" not in q, q
        phrases = _phrases(q)
        assert 1 <= len(phrases) <= 2
        for p in phrases:
            words = p.split()
            # a word shorter than four letters only inside a quoted phrase of several words
            assert len(words) > 1 or len(words[0]) >= 4, q
        assert len(_script(q)) == 1 and r["script"] == _script(q).pop(), q


def test_every_cue_language_has_queries_cee_first_serbian_in_both_scripts(rows):
    langs = list(dict.fromkeys(r["lang"] for r in rows))
    cee = cee_languages()
    assert {"pl", "cs", "sk", "hu", "ro", "bg", "hr", "sl", "lt", "lv", "et", "sr", "uk"} <= set(cee)
    assert set(langs) == set(available_languages())  # every language, focus or not, has queries
    assert langs[:len(cee)] == list(cee) and all(r["cee"] == (r["lang"] in cee) for r in rows)
    sr = [r for r in rows if r["lang"] == "sr"]
    assert {r["script"] for r in sr} == {"LATIN", "CYRILLIC"}
    assert len({(r["lang"], r["query"]) for r in rows}) == len(rows)


def test_queries_are_specific_designations_not_generic_words(rows):
    by_lang: dict[str, list[str]] = {}
    for r in rows:
        by_lang.setdefault(r["lang"], []).append(r["query"])
    # the report's and the annotations' self-designations, quoted as one phrase
    assert '"pôle territorial de coopération économique"' in by_lang["fr"]
    assert '"distretto di economia solidale"' in by_lang["it"]
    assert '"klaster ekonomii społecznej"' in by_lang["pl"]
    assert '"klaster" "spółdzielnia socjalna"' in by_lang["pl"]
    # no cooperation word ("together", "wspólnie"), and no legal form that any association has
    for lang, qs in by_lang.items():
        generic = {fold(t.surface) for t in load_terms(lang)
                   if t.group == "cooperation" or t.label in ("association", "foundation")}
        for q in qs:
            assert not generic & {fold(p) for p in _phrases(q)}, (lang, q)


def test_shipped_word_forms_are_whole_words_of_the_cue_terms():
    forms = load_forms()
    assert {"pl", "cs", "hu", "sr"} <= set(forms)
    for lang, data in forms.items():
        surfaces = {f"{t.group}/{t.label}/{t.surface}" for t in load_terms(lang)}
        for key, items in data["forms"].items():
            assert key in surfaces, (lang, key)
            for form, count in items:
                assert count > 0 and "*" not in form and term_matches(form, key.split("/", 2)[2]), (lang, key, form)
        for phrase, n_orgs in data["designations"]:
            assert n_orgs >= 2 and len(phrase.split()) >= 2


def test_specificity_on_the_repository_urls(rows):
    urls = [json.loads(l)["url"] for f in sorted((REPO / "annotations" / "webpages").glob("*.jsonl"))
            for l in f.read_text("utf-8").splitlines() if l.strip()]
    qs = [r["query"] for r in rows]
    shares = specificity(qs, urls)
    assert max(shares.values()) < 0.01  # no query matches one URL in a hundred (all its phrases)
    # a phrase written without spaces in a host name counts, a word inside another word does not
    table = match_table(['"klaster ekonomii społecznej"', '"klaster" "spółdzielnia socjalna"', '"klaster"', 'klast*'],
                        ["https://klasterekonomiispolecznej.pl/", "https://x.pl/klaster/spoldzielnia-socjalna",
                         "https://klastry.pl/"])
    assert table == {'"klaster ekonomii społecznej"': [0], '"klaster" "spółdzielnia socjalna"': [1],
                     '"klaster"': [1], 'klast*': [0, 1, 2]}  # the old in-word wildcard matches them all
    anyp = specificity(['"klaster" "spółdzielnia socjalna"'], ["https://x.pl/klaster", "https://y.pl/"],
                       require_all=False)
    assert anyp == {'"klaster" "spółdzielnia socjalna"': 0.5}


def test_export_and_language_selection():
    only = list(build_queries(["hu"], max_per_lang=5))
    assert len(only) == 5 and {r["lang"] for r in only} == {"hu"}
    assert [json.loads(l)["lang"] for l in export(only, "jsonl").splitlines()] == ["hu"] * 5
    table = list(csv.DictReader(io.StringIO(export(only, "csv"))))
    assert list(table[0]) == ["lang", "cee", "countries", "kind", "query", "labels", "script"]
    assert table[0]["kind"] == "designation" and table[-1]["kind"] == "designation+qualifier"
    with pytest.raises(ConfigError):
        list(build_queries(["xx-unknown"]))
