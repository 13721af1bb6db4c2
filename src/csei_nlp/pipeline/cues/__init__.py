"""Multilingual cue terms -> evidence spans and classifier features.

Why this exists: a CSEI page announces itself with a small vocabulary that is
cheap to find before any embedding is computed: the actor types of the
quadruple helix ("municipality", "spółdzielnia socjalna"), self-designations
("klaster", "pôle"), governance and cooperation wording, territorial anchoring
and social/ecological mission words.  The matches are (1) evidence shown to an
analyst, with exact character offsets, (2) a fixed-length feature vector for the
classifiers and (3) the cheap signal that decides whether a document is worth
embedding (the cascade).

Term lists live in ``resources/cues/<lang>.json`` (one file per language, plus
``xx.json`` for language-independent acronyms).  A term is a space-separated
token sequence, written in natural spelling; matching is on a lowercase,
diacritic-folded form of each token, so "spoldzielnia" also matches
"spółdzielnia".  Two markers keep inflecting languages matchable and precise:

* ``token*``  the token matches any word that *starts* with ``token`` (folded);
  the stem must be at least ``MIN_STEM`` characters (``MIN_STEM_PHRASE`` inside a
  multi-word term).  "szövetkezet*" matches
  "szövetkezetek", "szövetkezetünk", never "szöveg".
* ``=TERM``   the whole term is matched case-sensitively and without folding;
  for acronyms that collide with ordinary words ("=LAG", "=MAS", "=eG").

Matching is token-based (a spaCy blank tokenizer per language, with hyphens,
apostrophes and slashes split off), so a term never matches inside a longer
word unless it carries the ``*`` marker.

Modules: ``groups`` (the cue taxonomy), ``terms`` (term files, validation,
folding), ``matcher`` (text -> spans), ``features`` (spans -> vector) and
``coverage`` (the generated coverage table).
"""
from __future__ import annotations

from .features import FEATURE_NAMES, cue_features
from .groups import CUE_GROUPS, GROUPS, LEGAL_FORM_HELIX
from .matcher import match
from .terms import MIN_STEM, MIN_STEM_PHRASE, Term, available_languages, fold, load_terms, resolve_languages

__all__ = [
    "CUE_GROUPS", "FEATURE_NAMES", "GROUPS", "LEGAL_FORM_HELIX", "MIN_STEM", "MIN_STEM_PHRASE", "Term",
    "available_languages", "cue_features", "fold", "load_terms", "match", "resolve_languages",
]
