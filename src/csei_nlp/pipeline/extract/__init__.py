"""HTML main-text extraction: ``extract_html`` (trafilatura + metadata + links) and the consent filter.

Decoding bytes to str happens before, in ``pipeline.read.html.decode_html``.
"""
from .html import Extracted, ExtractionError, extract_html

__all__ = ["Extracted", "ExtractionError", "extract_html"]
