"""Language identification: document language, top candidates, per-paragraph mix.

Every later stage keys on the language (cue lists, spaCy tokenizers, the CEE
flag), and crawled pages are often mixed: a Polish NGO page with an English
project summary, a Czech report with a Slovak annex.  So the text is split into
paragraphs, each paragraph is identified on its own, and the document language
is the language that covers the largest share of the letters.

Two backends sit behind one small interface (``_Backend.candidates``), chosen
by ``[language] backend``:

``lingua``      lingua-language-detector, restricted to ``LANGUAGES``; the
                detector is built once per process, lazily (model files load on
                first use).  Optional low-accuracy mode.
``langdetect``  the Python port of Google's language-detection library,
                restricted to the ``LANGUAGES`` it has profiles for (it has none
                for bs, sr, ga, be, mt), with a fixed seed so it is repeatable.

Both are restricted to the EU languages plus the neighbours a CEE crawl meets
(uk, ru, sr, bs, mk, sq, be): a page in any other language is labelled with the
closest of those, which is why ``scores`` keeps the candidates.

Maltese (the letter rule)
-------------------------
Neither backend knows Maltese; left to them a Maltese paragraph comes out as
Italian or Swedish and finds no cues.  Maltese is the only EU language written
with ħ, ġ and ċ (Polish shares ż, never these three), so a paragraph is labelled
``"mt"`` before any detector runs when at least ``MT_MIN_LETTERS`` of its
letters, and at least ``MT_MIN_SHARE`` of them, are ħ/ġ/ċ.  On the project's
written Maltese passages the share is 3.3-7.0 %; on the other 28 languages'
passages it is 0 (checked in tests/pipeline/test_language.py).  A Maltese
place name in an English sentence ("Ħamrun") stays far below the share.  The
paragraph's score is ``min(1, 0.5 + share / (2 * MT_TYPICAL_SHARE))``: 0.625 at
the threshold, 1.0 at the typical share of running Maltese text.

Galician (the word rule)
------------------------
lingua knows Catalan and Basque but not Galician, which it reads as Spanish
or Portuguese.  A paragraph the detector puts in es/pt/ca becomes ``"gl"``
when at least ``GL_MIN_WORDS`` of its words, and ``GL_MIN_SHARE`` of them,
are words Galician spells differently from both neighbours (unha, tamén,
polo, coa, xa, moi, traballo, cidade, xestión ...).  Spanish and Portuguese
paragraphs almost never reach the share (checked in the language tests).

Close pairs (the tie-break rule)
--------------------------------
cs/sk, hr/sr/bs and bg/mk/ru/uk/be are hard to tell apart from short text.  The
detector's choice stands, except in two cases, applied per paragraph:

1. Script.  In Latin script the detectors know hr and bs only (their Serbian
   models are Cyrillic), so a Latin paragraph they label hr or bs is relabelled
   sr when the page's hint says Serbian.  In Cyrillic script an hr/bs label
   becomes sr: neither is written in Cyrillic in practice.
2. Near-tie.  If the page hint (the html ``lang`` attribute, else the country
   TLD) names a language of the same close group as the winner, and that
   language's score is within ``[language] prior_margin`` of the winner's, the
   hint wins.  A hint never overrides a clear decision and never crosses groups.

``lang`` is an ISO 639-1 code, or ``"und"`` when the text has fewer than
``[language] min_chars`` letters or no paragraph could be identified.
"""
from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..config import Config
from ..errors import MissingDependency

UND = "und"

# What the backends are restricted to: the EU official languages except Maltese
# (which neither supports; see the letter rule) plus the neighbours a
# Central/Eastern European crawl meets.
LANGUAGES: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu",
    "it", "lt", "lv", "nl", "pl", "pt", "ro", "sk", "sl", "sv",
    "uk", "ru", "sr", "bs", "mk", "sq", "be",
    "ca", "eu",
)  # fmt: skip

# Groups of languages a detector confuses; hints only act inside a group.
CLOSE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset({"cs", "sk"}),
    frozenset({"es", "ca", "gl", "pt"}),
    frozenset({"hr", "sr", "bs"}),
    frozenset({"bg", "mk", "ru", "uk", "be"}),
)
_GROUP_OF: dict[str, frozenset[str]] = {lang: g for g in CLOSE_GROUPS for lang in g}
_CYRILLIC_ONLY = frozenset({"bg", "mk", "ru", "uk", "be"})

# Country TLDs that suggest a language of a close group (a weak prior only).
_TLD_LANG: dict[str, str] = {
    "cz": "cs", "sk": "sk",
    "hr": "hr", "rs": "sr", "ba": "bs", "me": "sr",
    "bg": "bg", "mk": "mk", "ru": "ru", "ua": "uk", "by": "be",
}  # fmt: skip
# Country codes often written where a language code belongs (lang="cz").
_HINT_ALIAS: dict[str, str] = {"cz": "cs", "ua": "uk", "sh": "sr", "hbs": "sr", "srp": "sr",
                               "hrv": "hr", "bos": "bs", "ces": "cs", "cze": "cs", "slk": "sk",
                               "slo": "sk", "bul": "bg", "mkd": "mk", "ukr": "uk", "rus": "ru",
                               "bel": "be"}

# The Galician word rule (see the module docstring).  Function words and very
# common words that Galician writes differently from both Spanish and Portuguese.
GL_WORDS = frozenset("""
unha unhas dunha dunhas nunha nunhas cunha cunhas algunha ningunha tamén polo pola polos polas
coa coas cos xa moi moito moita moitos moitas aínda dende xunto xuntos xente traballo traballos
traballar cidade cidadá veciños veciñas veciñal galego galega galegos galegas xestión xeral
xeración rexión rexional mellor mellorar noso nosa nosos nosas ademais sempre deberá poderá
desenvolvemento económico social
non cando hoxe súa súas ás tódalas tódolos ningunha nengún concello concellos veciñanza persoa persoas
proxecto proxectos enerxía enerxías enerxética enerxéticas enerxético enerxéticos conxunto conxunta
conxuntos conxuntas axuda axudas axudar xuntanza xornada xornadas xuventude xardín xaneiro febreiro xuño
xullo decembro
""".split()) - frozenset({"económico", "social", "sempre"})
# Plural endings that only Galician writes (Spanish -ciones, Portuguese -ções).
GL_SUFFIXES = ("cións", "sións")
GL_MIN_WORDS = 3         # at least this many Galician words in the paragraph
GL_MIN_SHARE = 0.04      # and at least this share of its words

# The Maltese letter rule (see the module docstring).
MT_LETTERS = frozenset("ħĦġĠċĊ")
MT_MIN_SHARE = 0.01      # share of a paragraph's letters that are ħ/ġ/ċ
MT_MIN_LETTERS = 2       # and at least this many of them (one name is not a language)
MT_TYPICAL_SHARE = 0.04  # about the share in running Maltese text; score 1.0 there

_CYRILLIC_RE = re.compile(r"[\u0400-\u052f]")
_LATIN_RE = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_LINE_RE = re.compile(r"[^\n]+")


@dataclass(slots=True)
class LangResult:
    """The language of one text.

    ``lang``: ISO 639-1 code of the language covering the largest share of the
    letters, or ``"und"``.  ``scores``: the top-k candidates for the whole text
    (paragraph confidences weighted by paragraph length).  ``mix``: share of the
    identified letters per paragraph language.  ``reason``: why ``lang`` is
    ``"und"`` (``too_short``, ``no_features``), else empty.
    """

    lang: str = UND
    scores: dict[str, float] = field(default_factory=dict)
    mix: dict[str, float] = field(default_factory=dict)
    reason: str = ""


class _Backend(Protocol):
    name: str

    def candidates(self, text: str) -> list[tuple[str, float]]:
        """(ISO 639-1 code, probability) best first; empty when undecidable."""


@contextmanager
def _requires(package: str) -> Iterator[None]:
    """An ImportError inside becomes :class:`MissingDependency` naming the pip ``package``."""
    try:
        yield
    except ImportError:  # pragma: no cover - a declared dependency
        raise MissingDependency(package, "language identification") from None


class _LangdetectBackend:
    name = "langdetect"

    def __init__(self, seed: int) -> None:
        from importlib import resources

        with _requires("langdetect"):
            from langdetect.detector_factory import DetectorFactory
            from langdetect.lang_detect_exception import LangDetectException
        self._exc = LangDetectException
        profiles = resources.files("langdetect").joinpath("profiles")
        available = {p.name for p in profiles.iterdir()}
        factory = DetectorFactory()
        factory.load_json_profile(
            [profiles.joinpath(code).read_text("utf-8") for code in LANGUAGES if code in available]
        )
        factory.seed = seed  # copied by every Detector: same text, same answer
        self._factory = factory

    def candidates(self, text: str) -> list[tuple[str, float]]:
        detector = self._factory.create()
        detector.append(text)
        try:
            found = detector.get_probabilities()
        except self._exc:  # "No features in text": nothing language-like
            return []
        return [(c.lang, float(c.prob)) for c in found]


class _LinguaBackend:
    name = "lingua"

    def __init__(self, low_accuracy: bool) -> None:
        with _requires("lingua-language-detector"):
            from lingua import IsoCode639_1, Language, LanguageDetectorBuilder
        languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in LANGUAGES]
        builder = LanguageDetectorBuilder.from_languages(*languages)
        if low_accuracy:
            builder = builder.with_low_accuracy_mode()
        self._detector = builder.build()

    def candidates(self, text: str) -> list[tuple[str, float]]:
        values = self._detector.compute_language_confidence_values(text)
        return [
            (v.language.iso_code_639_1.name.lower(), float(v.value)) for v in values if v.value > 0.0
        ]


_BACKENDS: dict[tuple[Any, ...], _Backend] = {}
_LOCK = threading.Lock()


def _backend(cfg: Config) -> _Backend:
    lc = cfg.language
    name = lc.backend
    if name == "langdetect":
        key: tuple[Any, ...] = (name, int(lc.seed))
    else:  # "lingua" (config.load checks the name)
        key = (name, bool(lc.low_accuracy))
    backend = _BACKENDS.get(key)
    if backend is None:
        with _LOCK:
            backend = _BACKENDS.get(key)
            if backend is None:
                backend = _LangdetectBackend(key[1]) if name == "langdetect" else _LinguaBackend(key[1])
                _BACKENDS[key] = backend
    return backend


def _letters(text: str) -> int:
    return sum(1 for ch in text if ch.isalpha())


def maltese_score(text: str) -> float:
    """The Maltese score of one paragraph by the letter rule; 0.0 when it does not fire."""
    letters = _letters(text)
    mt = sum(1 for ch in text if ch in MT_LETTERS)
    if letters == 0 or mt < MT_MIN_LETTERS:
        return 0.0
    share = mt / letters
    if share < MT_MIN_SHARE:
        return 0.0
    return round(min(1.0, 0.5 + share / (2 * MT_TYPICAL_SHARE)), 4)


_WORD_RE = re.compile(r"[^\W\d_]+", re.U)


def galician_score(text: str) -> float:
    """The Galician score of one paragraph by the word rule; 0.0 when it does not fire.

    lingua has no Galician model, so Galician text comes out as Spanish or
    Portuguese.  The rule only re-labels a paragraph that a detector already
    put in that family (see :func:`detect`).
    """
    words = [w.lower() for w in _WORD_RE.findall(text)]
    if not words:
        return 0.0
    hits = sum(1 for w in words if w in GL_WORDS or w.endswith(GL_SUFFIXES))
    share = hits / len(words)
    if hits < GL_MIN_WORDS or share < GL_MIN_SHARE:
        return 0.0
    return round(min(1.0, 0.5 + share * 4), 4)


def normalise_hint(hint: str | None) -> str | None:
    """``"sr-Latn-RS"`` -> ``"sr"``, ``"cz"`` -> ``"cs"``; None for empty or odd values."""
    if not hint:
        return None
    primary = re.split(r"[-_]", hint.strip().lower(), maxsplit=1)[0]
    primary = _HINT_ALIAS.get(primary, primary)
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def tld_language(tld: str | None) -> str | None:
    """The close-group language a country TLD suggests: ``"example.cz"`` -> ``"cs"``."""
    if not tld:
        return None
    last = tld.strip().lower().rstrip(".").rsplit(".", 1)[-1]
    return _TLD_LANG.get(last)


def _paragraphs(text: str, min_letters: int, max_paragraphs: int) -> list[tuple[int, int, int]]:
    """(start, end, letters) of the text's paragraphs, each with >= ``min_letters``.

    Lines are paragraphs; a line shorter than ``min_letters`` is merged with the
    lines after it (a trailing short one with the paragraph before).  A very long
    text is regrouped into at most ``max_paragraphs`` runs of roughly equal size,
    which bounds the detection cost of a 300-page PDF.
    """
    lines = [(m.start(), m.end(), _letters(m.group())) for m in _LINE_RE.finditer(text)]
    blocks: list[list[int]] = []
    current: list[int] | None = None
    for start, end, n in lines:
        if n == 0:
            continue
        if current is None:
            current = [start, end, n]
        else:
            current[1], current[2] = end, current[2] + n
        if current[2] >= min_letters:
            blocks.append(current)
            current = None
    if current is not None:
        if blocks:
            blocks[-1][1], blocks[-1][2] = current[1], blocks[-1][2] + current[2]
        else:
            blocks.append(current)
    if max_paragraphs > 0 and len(blocks) > max_paragraphs:
        target = sum(b[2] for b in blocks) / max_paragraphs
        merged: list[list[int]] = []
        for b in blocks:
            if merged and merged[-1][2] < target:
                merged[-1][1], merged[-1][2] = b[1], merged[-1][2] + b[2]
            else:
                merged.append(list(b))
        blocks = merged
    return [(b[0], b[1], b[2]) for b in blocks]


def _apply_priors(
    cands: list[tuple[str, float]], text: str, prior: str | None, margin: float
) -> str:
    """The paragraph's label: the top candidate, adjusted by the close-pair rule."""
    top, top_score = cands[0]
    group = _GROUP_OF.get(top)
    if group is None:
        return top
    if group is _GROUP_OF["sr"]:
        cyr = len(_CYRILLIC_RE.findall(text))
        lat = len(_LATIN_RE.findall(text))
        if cyr > lat and top in ("hr", "bs"):
            return "sr"
        if lat > cyr and prior == "sr":
            return "sr"
    if prior is not None and prior != top and prior in group:
        if prior in _CYRILLIC_ONLY and len(_CYRILLIC_RE.findall(text)) == 0:
            return top
        prior_score = dict(cands).get(prior, 0.0)
        if top_score - prior_score <= margin:
            return prior
    return top


def detect(text: str, cfg: Config, hint: str | None = None, tld: str | None = None) -> LangResult:
    """Identify the language(s) of ``text``.

    ``hint``: the page's declared language (html ``lang``, HTTP Content-Language);
    ``tld``: the site's host or country TLD.  Both only break near-ties between
    close languages (see the module docstring).  Never raises for odd text.
    """
    lc = cfg.language
    if _letters(text) < lc.min_chars:
        return LangResult(reason="too_short")
    backend = _backend(cfg)
    prior = normalise_hint(hint)
    tld_prior = tld_language(tld)
    margin = float(lc.prior_margin)
    top_k = int(lc.top_k)

    mix: dict[str, float] = {}
    scores: dict[str, float] = {}
    identified = 0
    for start, end, n in _paragraphs(text, lc.paragraph_min_chars, int(lc.max_paragraphs)):
        chunk = text[start:end]
        mt = maltese_score(chunk)
        if mt > 0.0:
            cands, label = [("mt", mt)], "mt"
        else:
            cands = backend.candidates(chunk)
            if not cands:
                continue
            if cands[0][0] in ("es", "pt", "ca"):
                gl = galician_score(chunk)
                if gl > 0.0:
                    cands = [("gl", gl), *[(c, p) for c, p in cands if c != "gl"]]
            # The declared language is preferred; the TLD only when it names the group.
            group = _GROUP_OF.get(cands[0][0], frozenset())
            use = prior if prior in group else tld_prior if tld_prior in group else prior
            label = _apply_priors(cands, chunk, use, margin)
        mix[label] = mix.get(label, 0.0) + n
        for code, p in cands:
            scores[code] = scores.get(code, 0.0) + p * n
        identified += n
    if identified == 0:
        return LangResult(reason="no_features")
    lang = max(mix, key=lambda c: (mix[c], scores.get(c, 0.0)))
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])[:top_k]
    return LangResult(
        lang=lang,
        scores={c: round(s / identified, 4) for c, s in ranked},
        mix={c: round(v / identified, 4) for c, v in sorted(mix.items(), key=lambda kv: -kv[1])},
    )
