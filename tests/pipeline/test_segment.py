"""Segmentation: abbreviation-aware sentences, passage packing, exact offsets."""
from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from pathlib import Path

import pytest
import spacy

from csei_nlp import config
from csei_nlp.pipeline.segment import Segment, segment, split_sentences

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "language"

# Each case: sentences that must stay whole.  The blank spaCy sentencizer splits
# every one of these texts at an abbreviation.
ABBREVIATION_CASES = {
    "pl": [
        "Działamy w wielu gminach, np. w Nowym Sączu i Limanowej.",
        "Biuro mieści się przy ul. Długiej 5 w Łomży.",
        "Spotkanie poprowadzi prof. Nowak, m.in. z udziałem tzw. liderów lokalnych.",
        "W 2020 r. powstało stowarzyszenie.",
        "Na festyn przyszedł św. Mikołaj.",
        "Prezesem jest mgr inż. Jan Kowalski.",
    ],
    "cs": [
        "Spolupracujeme např. s obcemi a školami.",
        "Firma Dílna s.r.o. vznikla loni v Brně.",
        "Jde o tzv. sociální podnik.",
        "Sídlíme v ul. Dlouhá č. 5 v Praze.",
        "Spolek vede Ing. Novák a doc. Svoboda.",
        "Spolek byl založen 1. ledna 2020.",
    ],
    "de": [
        "Das Büro liegt in der Hauptstr. 12 in Leipzig.",
        "Der Verein wurde am 3. Oktober gegründet.",
        "Wir sind seit dem 1. 1. 2019 gemeinnützig.",
    ],
    "fr": [
        "Le siège est au 12 bd. Voltaire à Lille.",
        "On y trouve p. ex. des jardins partagés.",
        "Contactez le secrétariat (tél. 01 23 45 67 89).",
        "Il y a env. 300 membres dans le réseau.",
        "Voir le chap. 3 du rapport annuel.",
    ],
}


def _blank_sentences(text: str, lang: str) -> list[str]:
    nlp = spacy.blank(lang)
    nlp.add_pipe("sentencizer")
    return [s.text for s in nlp(text).sents]


@pytest.mark.parametrize("lang", sorted(ABBREVIATION_CASES))
def test_abbreviations_do_not_end_sentences(lang):
    expected = ABBREVIATION_CASES[lang]
    text = " ".join(expected)
    blank = _blank_sentences(text, lang)
    assert len(blank) > len(expected), "the blank sentencizer should split this text wrongly"
    ours = [text[a:b] for a, b in split_sentences(text, lang)]
    assert ours == expected


@pytest.mark.parametrize(
    "lang,text,expected",
    [
        # An abbreviation that can end a sentence still ends one before a capital.
        ("pl", "Założono ją w 2020 r. Od tego czasu rośnie.", 2),
        ("cs", "Zaměstnává nás Dílna s.r.o. Pracujeme rádi.", 2),
        ("uk", "Організація працює з 2015 р. Вона об'єднує школи.", 2),
        ("en", "Members include e.g. Park St. cooperatives. The city helps.", 2),
        ("pl", "Zdanie pierwsze. Zdanie drugie! Czy trzecie?", 3),
    ],
)
def test_real_sentence_ends_are_kept(lang, text, expected):
    assert len(split_sentences(text, lang)) == expected


def _check_passages(text: str, passages: list[Segment], max_tokens: int) -> None:
    covered = bytearray(len(text))
    prev_end = 0
    for p in passages:
        assert text[p.start : p.end] == p.text
        assert p.text == p.text.strip() and p.text
        assert 0 < p.n_tokens <= max_tokens
        assert p.start >= prev_end
        prev_end = p.end
        covered[p.start : p.end] = b"\x01" * (p.end - p.start)
    # Nothing dropped: every non-space character is inside a passage.
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not missing, repr(text[missing[0] : missing[0] + 40])


def test_offsets_on_real_sentences_in_29_languages(shared_dir, cfg):
    tsv = shared_dir / "data" / "lingua-langid" / "langid_test.tsv"
    by_lang: dict[str, list[str]] = defaultdict(list)
    with tsv.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["kind"] == "sentences" and len(by_lang[row["lang"]]) < 80:
                by_lang[row["lang"]].append(row["text"])
    assert len(by_lang) == 29
    cfg_small = config.load(overrides={"segment": {"max_tokens": 40}})
    n = 0
    for lang, sents in by_lang.items():
        # Vary the separators: spaces, line breaks, blank lines, stray whitespace.
        seps = [" ", "\n", "\n\n", "  ", " \n \n", "\t"]
        text = "  " + "".join(s + seps[i % len(seps)] for i, s in enumerate(sents))
        for c in (cfg, cfg_small):
            passages = segment(text, lang, c)
            _check_passages(text, passages, c.segment.max_tokens)
            n += len(passages)
    print(f"{n} passages checked")


def test_offsets_on_fixture_paragraphs(cfg):
    paras = json.loads((FIX / "paragraphs.json").read_text("utf-8"))
    for lang, ps in paras.items():
        text = "\n\n".join(ps) + "\n"
        passages = segment(text, lang, cfg)
        _check_passages(text, passages, cfg.segment.max_tokens)
        # Short paragraphs: one passage each, never across the blank line.
        assert [p.text for p in passages] == ps


def test_passages_follow_paragraphs_and_the_token_cap():
    cfg = config.load(overrides={"segment": {"max_tokens": 16}})
    text = (
        "The first paragraph has one rather long opening sentence. It has a second sentence too.\n"
        "A new line after a full stop starts a paragraph.\n\n"
        "After a blank line, another one."
    )
    passages = segment(text, "en", cfg)
    assert [p.text for p in passages] == [
        "The first paragraph has one rather long opening sentence.",  # 10 tokens
        "It has a second sentence too.",  # 7: 17 together, over the cap
        "A new line after a full stop starts a paragraph.",
        "After a blank line, another one.",
    ]
    wide = segment(text, "en", config.load())
    assert [p.text for p in wide] == [
        "The first paragraph has one rather long opening sentence. It has a second sentence too.",
        "A new line after a full stop starts a paragraph.",
        "After a blank line, another one.",
    ]


def test_line_wrapped_sentence_stays_one_passage(cfg):
    # PDF text: lines break inside sentences; only the sentence end matters.
    text = "Sieć skupia spółdzielnie socjalne,\nfundacje i szkoły zawodowe\nz całego regionu. Działa od 2017 r.\n"
    passages = segment(text, "pl", cfg)
    assert len(passages) == 1 and passages[0].text.endswith("2017 r.")


def test_overlong_sentence_is_cut_at_tokens_not_dropped():
    cfg = config.load(overrides={"segment": {"max_tokens": 50}})
    words = [f"słowo{i}" for i in range(437)]
    text = "Wstęp. Lista " + " ".join(words) + " koniec."  # 2 tokens, then 440
    passages = segment(text, "pl", cfg)
    _check_passages(text, passages, 50)
    assert [p.n_tokens for p in passages] == [2] + [50] * 8 + [40]
    assert re.findall(r"słowo\d+", " ".join(p.text for p in passages)) == words


def test_long_text_is_fed_in_chunks():
    # A text above spaCy's default max_length (1,000,000) without a blank line.
    line = "Spółdzielnia prowadzi warsztaty dla mieszkańców regionu. "
    text = "\n".join(line * 4 for _ in range(5000))
    assert len(text) > 1_000_000
    cfg = config.load()
    passages = segment(text, "pl", cfg)
    assert passages[0].start == 0 and passages[-1].end == len(text.rstrip())
    assert all(text[p.start : p.end] == p.text for p in passages[::500])
    assert sum(p.n_tokens for p in passages) == 5000 * 4 * 7


@pytest.mark.parametrize("lang", ["und", "bs", "mt", "", "../x", "zz"])
def test_unknown_or_missing_language_falls_back(lang, cfg):
    text = "Udruženje okuplja zadruge, škole i zanatlije. Dobit se ulaže u zajednicu."
    passages = segment(text, lang, cfg)
    assert [p.text for p in passages] == [text]


def test_empty_and_blank_text(cfg):
    assert segment("", "pl", cfg) == []
    assert segment(" \n\n\t ", "pl", cfg) == []
