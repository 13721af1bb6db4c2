"""Segmentation: document text -> sentences -> passages with character offsets.

Passages are the unit that is matched against cue lists, embedded and
classified, and the unit a researcher reads as evidence, so they must be
coherent (whole sentences, one paragraph) and small (at most
``[segment] max_tokens`` spaCy tokens), and their offsets must point exactly
into ``Document.text``: ``text[p.start:p.end] == p.text`` always.

Sentences come from a blank spaCy pipeline per language (``spacy.blank(lang)``
plus the rule-based ``sentencizer``; ``xx`` for languages spaCy lacks), one per
language per process.  The sentencizer ends a sentence at every free-standing
full stop, and the blank tokenizers of most languages split the full stop off
abbreviations ("np.", "např.", "Hauptstr.", "p. ex."), so a post-step merges a
sentence into the next one when it ends in:

* an abbreviation that precedes a word or number ("np.", "ul.", "prof.",
  "z. B.", "M.") -- always;
* an abbreviation that may also end a sentence ("etc.", "r.", "s.r.o.",
  "e.V.") -- only when the next sentence starts with a lower-case letter or a
  digit;
* any full stop followed by a lower-case letter (a sentence does not start in
  lower case; this also catches abbreviations missing from the lists);
* a single capital initial ("J. Kowalski") followed by a capital;
* an ordinal number ("3. Oktober", "1. ledna") in languages that write
  ordinals with a full stop, followed by a lower-case word, a digit or (German)
  a month name.

Passages pack consecutive sentences up to ``max_tokens``.  A passage never
spans a paragraph break (a blank line, or a line break between two
sentences); a single sentence longer than ``max_tokens`` is cut at token
boundaries, never dropped.  Long texts are fed to spaCy paragraph by paragraph
(and very long paragraphs in chunks), so spaCy's length limit (E088) never
applies.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from ..config import Config

# Characters fed to spaCy at once; a paragraph longer than this is cut at a
# line break (else a space) near the limit.
CHUNK_CHARS = 100_000

# Languages with no spaCy module that share a close relative's conventions.
_SPACY_ALIAS = {"bs": "hr", "me": "sr", "sh": "hr"}

_COMMON_ALWAYS = ("dr.", "prof.", "nr.", "tel.", "ing.")
_COMMON_AMBIGUOUS = ("etc.",)

# lang -> (always merge, merge when the next sentence starts lower-case/digit).
# Compared case-insensitively, with the spaces inside removed ("z. B." == "z.b.").
_ABBREVIATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pl": (
        ("np.", "tzw.", "ul.", "al.", "pl.", "m.in.", "św.", "mgr.", "inż.", "hab.", "ok.", "pkt.",
         "art.", "ust.", "wg.", "tj.", "ks.", "godz.", "sp.", "im.", "zob.", "por.", "woj.", "pow.",
         "gm.", "os.", "min."),
        ("r.", "itd.", "itp.", "o.o.", "tys.", "mln.", "mld.", "zł.", "w.", "wsp."),
    ),
    "cs": (
        ("např.", "tzv.", "č.", "ul.", "nám.", "odst.", "doc.", "mgr.", "resp.", "tj.", "mj.", "cca.",
         "př.", "str.", "viz.", "p.", "pí.", "bc.", "phdr.", "mudr.", "judr.", "rndr.", "sv.", "čj.",
         "obr.", "tab.", "kap.", "písm.", "tzn.", "popř."),
        ("s.r.o.", "a.s.", "z.s.", "o.p.s.", "z.ú.", "atd.", "apod.", "aj.", "tis.", "mil.", "kč.",
         "r.", "s."),
    ),
    "sk": (
        ("napr.", "tzv.", "č.", "ul.", "nám.", "ods.", "doc.", "mgr.", "resp.", "t.j.", "tj.", "cca.",
         "str.", "príp.", "tzn.", "p.", "sv.", "bc.", "phdr.", "mudr.", "judr.", "obr.", "písm."),
        ("s.r.o.", "a.s.", "o.z.", "n.o.", "atď.", "apod.", "a pod.", "tis.", "mil.", "r.", "s."),
    ),
    "de": (
        ("z.b.", "bzw.", "ca.", "str.", "ggf.", "evtl.", "inkl.", "exkl.", "vgl.", "u.a.", "d.h.",
         "abs.", "jh.", "hr.", "fr.", "frl.", "st.", "sog.", "gem.", "bzgl.", "ggü.", "z.t.", "v.a.",
         "i.d.r.", "dipl.", "mag.", "nr.", "s.", "u.", "o.", "zzgl.", "lt.", "gegr.", "tsd."),
        ("e.v.", "usw.", "o.ä.", "u.ä.", "mio.", "mrd.", "ggmbh.", "gmbh.", "ag."),
    ),
    "fr": (
        ("m.", "mm.", "mme.", "mlle.", "mgr.", "st.", "ste.", "p.", "pp.", "p.ex.", "ex.", "cf.",
         "chap.", "env.", "tél.", "bd.", "av.", "vol.", "fig.", "coll.", "art.", "c.-à-d.", "c.à.d.",
         "janv.", "févr.", "avr.", "juil.", "juill.", "sept.", "oct.", "nov.", "déc."),
        ("av.j.-c.", "apr.j.-c.", "j.-c.", "al.", "min.", "s.a.", "s.a.r.l.", "sarl."),
    ),
    "en": (
        ("e.g.", "i.e.", "mr.", "mrs.", "ms.", "st.", "no.", "vs.", "approx.", "dept.", "fig.", "p.",
         "pp.", "vol.", "cf.", "rev.", "gen.", "sen.", "rep.", "gov.", "est."),
        ("inc.", "ltd.", "co.", "corp.", "jr.", "sr.", "u.s.", "u.k.", "al.", "e.u."),
    ),
    "it": (
        ("es.", "sig.", "sig.ra.", "dott.", "dott.ssa.", "ing.", "avv.", "n.", "pag.", "p.es.",
         "cfr.", "arch.", "geom.", "on.", "ca.", "sez.", "art.", "v.", "c.so.", "p.zza."),
        ("ecc.", "s.r.l.", "s.p.a.", "s.n.c.", "coop.", "onlus."),
    ),
    "es": (
        ("sr.", "sra.", "srta.", "dra.", "d.", "dña.", "p.ej.", "ej.", "núm.", "pág.", "avda.",
         "ud.", "uds.", "aprox.", "art.", "cap.", "c/.", "gral.", "vid."),
        ("s.l.", "s.a.", "s.coop.", "coop.", "cía."),
    ),
    "pt": (
        ("sr.", "sra.", "dra.", "p.ex.", "ex.", "pág.", "av.", "art.", "cap.", "n.º", "eng.", "r."),
        ("lda.", "s.a.", "coop.", "crl."),
    ),
    "hu": (
        ("pl.", "ill.", "kb.", "ifj.", "id.", "özv.", "u.", "krt.", "sz.", "st.", "ún.", "vö.", "ld.",
         "ford.", "ker.", "hrsz.", "tvr.", "ált."),
        ("stb.", "kft.", "zrt.", "nyrt.", "bt.", "ev.", "e.", "sz.", "ft."),
    ),
    "hr": (
        ("npr.", "tzv.", "ul.", "br.", "tj.", "odn.", "mr.", "dipl.", "str.", "čl.", "sv.", "st.",
         "gl.", "prim.", "izv."),
        ("itd.", "sl.", "d.o.o.", "d.d.", "god.", "tis.", "mil.", "kn.", "t.d."),
    ),
    "sr": (
        ("npr.", "tzv.", "ul.", "br.", "tj.", "odn.", "mr.", "dipl.", "str.", "čl.", "sv.", "st.",
         "нпр.", "тзв.", "ул.", "бр.", "тј.", "одн.", "др.", "проф.", "мр.", "стр.", "чл.", "св."),
        ("itd.", "sl.", "d.o.o.", "a.d.", "god.", "din.", "итд.", "сл.", "д.о.о.", "год.", "дин."),
    ),
    "sl": (
        ("npr.", "t.i.", "t.j.", "ul.", "št.", "oz.", "sv.", "mag.", "str.", "čl.", "gl.", "izr."),
        ("itd.", "ipd.", "d.o.o.", "d.d.", "so.p.", "zav.", "l."),
    ),
    "ro": (
        ("dl.", "dna.", "str.", "ex.", "pag.", "bd.", "nr.", "art.", "alin.", "lit.", "jud.", "mun."),
        ("ș.a.", "ş.a.", "s.r.l.", "s.a.", "lei."),
    ),
    "nl": (
        ("bijv.", "o.a.", "d.w.z.", "m.b.t.", "dhr.", "mevr.", "blz.", "ca.", "i.p.v.", "t.a.v.",
         "vs.", "z.g.", "st.", "m.u.v.", "mr.", "drs.", "ir."),
        ("e.d.", "enz.", "b.v.", "n.v.", "v.o.f.", "bv.", "nv."),
    ),
    "da": (("f.eks.", "bl.a.", "dvs.", "ca.", "tlf.", "jf.", "evt.", "hhv.", "ang.", "inkl."),
           ("mv.", "osv.", "m.m.", "aps.", "a/s.")),
    "sv": (("t.ex.", "bl.a.", "dvs.", "ca.", "resp.", "jfr.", "inkl.", "s.k.", "p.g.a.", "fr.o.m."),
           ("m.m.", "osv.", "etc.", "ab.", "kr.")),
    "fi": (("esim.", "ks.", "mm.", "n.", "nk.", "puh.", "ns.", "klo.", "toim.", "ts.", "ym."),
           ("tms.", "yms.", "jne.", "oy.", "ry.", "ky.")),
    "et": (("nt.", "näit.", "vt.", "u.", "s.o.", "s.t.", "lk.", "hr.", "pr."), ("jne.", "jm.", "oü.", "mtü.")),
    "lv": (("piem.", "t.i.", "sk.", "t.s.", "pag.", "nov.", "iel."), ("utt.", "u.c.", "sia.")),
    "lt": (("pvz.", "t.y.", "g.", "a.", "p.", "gim.", "doc."), ("kt.", "ir kt.", "m.", "uab.", "všį.")),
    "el": (("π.χ.", "δηλ.", "αρ.", "τηλ.", "σελ.", "οδ.", "καθ.", "δρ.", "κ.", "βλ."),
           ("κ.λπ.", "κ.ά.", "κ.τ.λ.", "κλπ.", "ε.ε.", "α.ε.")),
    "sq": (("p.sh.", "rr.", "nr.", "z.", "znj.", "sh."), ("etj.", "sh.p.k.")),
    "ga": (("m.sh.", "uimh.", "lch.", "r.phost."), ("srl.", "teo.")),
    "bg": (("напр.", "т.е.", "т.нар.", "ул.", "бул.", "гр.", "проф.", "тел.", "стр.", "т.н.", "чл.",
            "ал.", "с.", "обл.", "вж."),
           ("др.", "г.", "т.н.", "лв.", "хил.", "млн.", "ет.", "оод.", "еоод.", "ад.")),
    "mk": (("ул.", "проф.", "бр.", "тел.", "стр.", "с.", "чл.", "на пр."), ("год.", "итн.", "ден.", "доо.")),
    "ru": (("т.е.", "т.к.", "т.н.", "ул.", "д.", "им.", "проф.", "напр.", "см.", "стр.", "тел.", "пр.",
            "пер.", "обл.", "кв.", "корп.", "ст.", "с."),
           ("т.д.", "т.п.", "г.", "др.", "млн.", "млрд.", "тыс.", "руб.", "гг.", "ооо.", "нко.")),
    "uk": (("напр.", "т.зв.", "вул.", "проф.", "м.", "с.", "обл.", "тел.", "див.", "просп.", "пл.",
            "буд.", "ст.", "д-р."),
           ("р.", "т.д.", "ін.", "тис.", "млн.", "грн.", "рр.", "тов.")),
    "be": (("вул.", "праф.", "г.", "в.", "тэл.", "напр.", "гл."), ("і г.д.", "г.д.", "руб.", "тыс.")),
}

# Languages that write ordinals and dates with a full stop ("3. Oktober", "1. ledna").
_ORDINAL_LANGS = frozenset(
    {"de", "cs", "sk", "pl", "hu", "hr", "sr", "bs", "sl", "da", "no", "nb", "fi", "et", "lv", "is", "fo"}
)
_DE_MONTHS = frozenset(
    "januar jänner februar feber märz april mai juni juli august september oktober november dezember".split()
)
# Street names in German end in "...str." ("Hauptstr. 12").
_SUFFIX_ALWAYS = {"de": re.compile(r"\w+str\.$")}

_LEADING_PUNCT = "([{\"'„“«‹»›‚‘"
_BLANK_LINE_RE = re.compile(r"\n[^\S\n]*\n\s*")
_WS_RE = re.compile(r"\s+")
_ORDINAL_RE = re.compile(r"^\d{1,3}\.$")


@dataclass(slots=True)
class Segment:
    """A passage: characters [start, end) of the text, ``text == text[start:end]``."""

    start: int
    end: int
    text: str
    n_tokens: int


_NLP: dict[str, Any] = {}
_LOCK = threading.Lock()


def _nlp(lang: str) -> Any:
    """The cached blank pipeline with a sentencizer for ``lang`` (``xx`` if spaCy lacks it)."""
    code = (lang or "xx").strip().lower()
    code = _SPACY_ALIAS.get(code, code)
    if not (code.isalpha() and 2 <= len(code) <= 3):
        code = "xx"
    nlp = _NLP.get(code)
    if nlp is not None:
        return nlp
    import spacy

    with _LOCK:
        nlp = _NLP.get(code)
        if nlp is None:
            try:
                nlp = spacy.blank(code)
            except Exception:  # unknown code, or a tokenizer needing an absent package
                nlp = _NLP.get("xx") or spacy.blank("xx")
            if "sentencizer" not in nlp.pipe_names:
                nlp.add_pipe("sentencizer")
            nlp.max_length = max(nlp.max_length, 2 * CHUNK_CHARS)
            _NLP[code] = nlp
    return nlp


def _abbrev_lang(lang: str) -> str:
    code = (lang or "").strip().lower().split("-")[0]
    return _SPACY_ALIAS.get(code, code)


def _chunks(text: str) -> list[tuple[int, int]]:
    """(start, end) of the paragraphs (split at blank lines), long ones cut to CHUNK_CHARS."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _BLANK_LINE_RE.finditer(text):
        spans.append((pos, m.start()))
        pos = m.end()
    spans.append((pos, len(text)))
    out: list[tuple[int, int]] = []
    for start, end in spans:
        while end - start > CHUNK_CHARS:
            window = text[start : start + CHUNK_CHARS]
            cut = window.rfind("\n")
            if cut < CHUNK_CHARS // 2:
                cut = max(window.rfind(" "), window.rfind("\t"))
            if cut < CHUNK_CHARS // 2:
                cut = CHUNK_CHARS
            out.append((start, start + cut))
            start += cut
        out.append((start, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def _tail_words(sentence: str) -> tuple[str, str]:
    """The last word and the last two words (spaces removed), lower case, leading brackets off."""
    words = sentence.split()
    last = words[-1].lstrip(_LEADING_PUNCT).lower()
    two = (words[-2] + words[-1]).lstrip(_LEADING_PUNCT).lower() if len(words) > 1 else last
    return last, two


def _continues(prev: str, nxt: str, lang: str) -> bool:
    """Whether the boundary between ``prev`` and ``nxt`` is a false split."""
    if not prev.endswith(".") or prev.endswith("..") or not nxt:
        return False
    first = nxt.lstrip(_LEADING_PUNCT)[:1]
    if not first:
        return False
    if first.islower():
        return True
    last, two = _tail_words(prev)
    always, ambiguous = _ABBREVIATIONS.get(lang, ((), ()))
    always = always + _COMMON_ALWAYS
    ambiguous = ambiguous + _COMMON_AMBIGUOUS
    if last in always or two in always:
        return True
    suffix = _SUFFIX_ALWAYS.get(lang)
    if suffix is not None and suffix.match(last):
        return True
    if first.isdigit() and (last in ambiguous or two in ambiguous):
        return True
    if len(last) == 2 and last[0].isalpha() and prev.split()[-1].lstrip(_LEADING_PUNCT)[:1].isupper():
        return first.isupper()  # an initial: "J. Kowalski"
    if lang in _ORDINAL_LANGS and _ORDINAL_RE.match(last):
        if first.isdigit():
            return True
        if lang == "de":
            word = re.match(r"\w+", nxt)
            return bool(word and word.group().lower() in _DE_MONTHS)
    return False


def _sentences(text: str, lang: str) -> list[list[tuple[int, int]]]:
    """Sentences as lists of (start, end) token offsets into ``text``, never empty.

    A sentence that starts a paragraph carries a leading ``(-1, -1)`` marker.
    """
    chunks = _chunks(text)
    if not chunks:
        return []
    nlp = _nlp(lang)
    alang = _abbrev_lang(lang)
    out: list[list[tuple[int, int]]] = []
    for (offset, _), doc in zip(chunks, nlp.pipe(text[s:e] for s, e in chunks)):
        sents: list[list[tuple[int, int]]] = []
        for sent in doc.sents:
            toks = [(offset + t.idx, offset + t.idx + len(t.text)) for t in sent if not t.is_space]
            if not toks:
                continue
            if sents:
                prev = sents[-1]
                prev_text = text[prev[0][0] : prev[-1][1]]
                if _continues(prev_text, text[toks[0][0] : toks[-1][1]], alang):
                    prev.extend(toks)
                    continue
            sents.append(toks)
        for i, toks in enumerate(sents):
            breaks = i == 0 or "\n" in text[sents[i - 1][-1][1] : toks[0][0]]
            out.append([(-1, -1)] + toks if breaks else toks)
    return out


def split_sentences(text: str, lang: str) -> list[tuple[int, int]]:
    """(start, end) character offsets of the sentences of ``text``, abbreviations merged."""
    out = []
    for sent in _sentences(text, lang):
        toks = sent[1:] if sent[0] == (-1, -1) else sent
        out.append((toks[0][0], toks[-1][1]))
    return out


def segment(text: str, lang: str, cfg: Config) -> list[Segment]:
    """Cut ``text`` into passages of at most ``[segment] max_tokens`` tokens.

    ``lang`` picks the tokenizer and abbreviation list ("und" or an unknown code:
    the multilingual ``xx`` tokenizer).  Offsets are into ``text``.
    """
    max_tokens = int(cfg.segment.max_tokens)
    passages: list[Segment] = []
    current: list[tuple[int, int]] = []

    def flush() -> None:
        if current:
            start, end = current[0][0], current[-1][1]
            passages.append(Segment(start, end, text[start:end], len(current)))
            current.clear()

    for sent in _sentences(text, lang):
        starts_paragraph = sent[0] == (-1, -1)
        toks = sent[1:] if starts_paragraph else sent
        if starts_paragraph or len(current) + len(toks) > max_tokens:
            flush()
        while len(toks) > max_tokens:  # one sentence longer than a passage
            current.extend(toks[:max_tokens])
            flush()
            toks = toks[max_tokens:]
        current.extend(toks)
    flush()
    return passages
