"""Main text from each kind of input: HTML (``extract_html``: trafilatura + metadata + links, and
the consent filter), PDF (``extract.pdf``: engines, layout, clean-up) and text.

``extractors.extractor_for(media)`` is the one entry point the worker uses.  Decoding
HTML bytes to str is :mod:`csei_nlp.pipeline.read.charset`'s job.
"""
from .html import Extracted, ExtractionError, extract_html

__all__ = ["Extracted", "ExtractionError", "extract_html"]
