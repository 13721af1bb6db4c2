"""Main text and page metadata from a decoded HTML page.

trafilatura finds the main content; around it we add what the CSEI pipeline
needs and trafilatura does not give reliably: the page's declared language
(``<html lang>``), canonical and ``og:url`` addresses (site keys for pages read
from files), outbound links (a cluster page links to its members' sites),
cookie-banner removal before and after extraction, and a link-density flag so
that list/index pages (merged teaser snippets, trafilatura#811) are not taken
for articles. ``deduplicate`` stays off: it is non-deterministic and drops text
(trafilatura#778); duplicates are handled by our own dedup stage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urldefrag, urljoin

from lxml import html as lxml_html

from ...config import Config
from ..site import domain_of
from .consent import BANNER_ATTR_RE, filter_consent, is_consent_text

MAX_LINKS = 500
_WS_RE = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "head"}
_NEVER_REMOVE = {"html", "body", "main", "article"}
_CELL_SPLIT_RE = re.compile(r"(?<!\\)\|")
_RULE_RE = re.compile(r"^:?-{3,}:?$")
# No dateparser fallback (extensive_search): it costs ~2 s per page that reaches it.
_DATE_PARAMS = {"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%d"}
_XML_DECL_RE = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


class ExtractionError(Exception):
    """No usable main text; ``reason`` is a machine code, ``detail`` a sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(slots=True)
class Extracted:
    text: str
    title: str | None = None
    date: str | None = None
    canonical_url: str | None = None
    html_lang: str | None = None
    links: list[str] = field(default_factory=list)
    og_url: str | None = None
    is_article: bool = True
    banner_share: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)


def _parse(html: str) -> Any:
    # lxml refuses str input that carries an XML encoding declaration.
    html = _XML_DECL_RE.sub("", html, count=1)
    html = html.replace("\x00", "")
    if not html.strip():
        raise ExtractionError("empty", "the page is empty")
    try:
        tree = lxml_html.document_fromstring(html)
    except (ValueError, TypeError, lxml_html.etree.ParserError) as exc:
        raise ExtractionError("unparseable", f"the HTML cannot be parsed: {exc}") from None
    return tree


def _first_attr(tree: Any, xpath: str) -> str | None:
    for v in tree.xpath(xpath):
        v = str(v).strip()
        if v:
            return v
    return None


def _lang(tree: Any) -> str | None:
    value = (
        tree.get("lang")
        or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
        or _first_attr(tree, "//meta[translate(@http-equiv,'CONTENT-LANGUAGE','content-language')"
                             "='content-language']/@content")
    )
    if not value:
        return None
    value = value.split(",")[0].strip().replace("_", "-")
    return value.lower() or None


def _abs(href: str | None, base: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    try:
        full = urljoin(base, href) if base else href
        full = urldefrag(full)[0]
    except ValueError:
        return None
    return full if full.lower().startswith(("http://", "https://")) else None


def _visible_text_stats(body: Any) -> tuple[int, int]:
    """(characters of visible text, characters inside links) under ``body``."""
    total = linked = 0
    stack: list[tuple[Any, bool]] = [(body, False)]
    while stack:
        el, in_link = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP_TAGS:
            continue
        inside = in_link or tag == "a"
        if tag and el.text:
            n = len(el.text.strip())
            total += n
            linked += n if inside else 0
        for child in el:
            if child.tail:
                n = len(child.tail.strip())
                total += n
                linked += n if inside else 0
            if isinstance(child.tag, str):
                stack.append((child, inside))
    return total, linked


def _remove_banners(tree: Any) -> list[str]:
    """Drop cookie/consent containers (by class/id/dialog role, confirmed by their text); return their texts."""
    removed: list[str] = []
    dropped: list[Any] = []
    candidates = []
    for el in tree.iter():
        if not isinstance(el.tag, str) or el.tag in _NEVER_REMOVE or el.tag in _SKIP_TAGS:
            continue
        attrs = " ".join(filter(None, (el.get("id"), el.get("class"), el.get("aria-label"))))
        if el.get("role") == "dialog" or (attrs and BANNER_ATTR_RE.search(attrs)):
            candidates.append(el)
    for el in candidates:
        if el.getparent() is None:
            continue
        if any(anc in dropped for anc in el.iterancestors()):
            continue
        attrs = " ".join(filter(None, (el.get("id"), el.get("class"), el.get("aria-label"))))
        attr_match = bool(BANNER_ATTR_RE.search(attrs))
        if not attr_match and el.get("role") != "dialog":
            continue
        text = " ".join(el.text_content().split())
        if text and not is_consent_text(text, max_len=3000):
            continue  # e.g. <div class="has-cookie-bar"> around the real content, or another dialog
        if not text and not attr_match:
            continue
        dropped.append(el)
        el.drop_tree()
        if text:
            removed.append(text)
    return removed


def _table_row(line: str) -> str:
    """trafilatura writes table rows as ``| a | b |``; keep the non-empty cells, "; "-separated."""
    if not (line.startswith("|") and line.endswith("|")):
        return line
    cells = [c.replace("\\|", "|").strip() for c in _CELL_SPLIT_RE.split(line[1:-1])]
    cells = [c for c in cells if c and not _RULE_RE.match(c)]
    return "; ".join(cells)


def _clean_text(text: str) -> str:
    lines = [_table_row(_WS_RE.sub(" ", line).strip()) for line in text.split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


def extract_html(html: str, url: str | None, cfg: Config) -> Extracted:
    """Main text (paragraphs separated by newlines) and metadata of one page.

    Raises :class:`ExtractionError` with reason ``empty``, ``unparseable``,
    ``no_main_text`` or ``consent_only`` when there is no usable text.
    """
    import trafilatura

    ecfg = cfg.extract
    tree = _parse(html)
    html_lang = _lang(tree)
    canonical = _first_attr(tree, "//link[contains(concat(' ', normalize-space(translate(@rel,"
                                  "'CANONICAL','canonical')), ' '), ' canonical ')]/@href")
    og_url = _first_attr(tree, "//meta[@property='og:url' or @name='og:url']/@content")
    base = _first_attr(tree, "//base/@href")
    base = _abs(base, url) if base else None
    base = base or url or _abs(canonical, None) or _abs(og_url, None)
    canonical = _abs(canonical, base)
    og_url = _abs(og_url, base)

    page_site = domain_of(url) or domain_of(canonical) or domain_of(og_url)
    links: list[str] = []
    seen: set[str] = set()
    for href in tree.xpath("//a/@href"):
        full = _abs(str(href), base)
        if not full or full in seen:
            continue
        d = domain_of(full)
        if d is None or (page_site is not None and d == page_site):
            continue
        seen.add(full)
        links.append(full)
        if len(links) >= MAX_LINKS:
            break

    body = tree.find("body")
    total_chars, link_chars = _visible_text_stats(body) if body is not None else (0, 0)
    link_density = link_chars / total_chars if total_chars else 0.0

    banner_texts = _remove_banners(tree)
    banner_chars = sum(len(t) for t in banner_texts)

    favor = ecfg.favor
    try:
        doc = trafilatura.bare_extraction(
            tree,
            url=url,
            fast=ecfg.fast,
            favor_precision=favor == "precision",
            favor_recall=favor == "recall",
            include_comments=False,
            include_tables=True,
            deduplicate=False,
            with_metadata=True,
            date_extraction_params=_DATE_PARAMS,
        )
    except (ValueError, TypeError, AttributeError, RecursionError, MemoryError) as exc:
        raise ExtractionError("extraction_error", f"trafilatura failed: {type(exc).__name__}: {exc}") from None
    raw_text = _clean_text(getattr(doc, "text", None) or "") if doc is not None else ""
    if len(raw_text) < ecfg.min_chars and favor == "precision":
        # Short organisation pages and list pages fall under precision mode's thresholds.
        retry = _parse(html)
        _remove_banners(retry)
        doc = trafilatura.bare_extraction(
            retry, url=url, fast=ecfg.fast, favor_recall=True, include_comments=False,
            include_tables=True, deduplicate=False, with_metadata=True, date_extraction_params=_DATE_PARAMS,
        )
        raw_text = _clean_text(getattr(doc, "text", None) or "") if doc is not None else ""

    consent = filter_consent(raw_text)
    text = consent.text
    removed_chars = banner_chars + sum(len(r.strip()) for r in consent.removed)
    banner_share = removed_chars / (removed_chars + len(text)) if (removed_chars + len(text)) else 0.0

    min_chars = ecfg.min_chars
    if len(text) < min_chars:
        if removed_chars and removed_chars >= len(text):
            raise ExtractionError("consent_only",
                                  f"the page is mostly a cookie/consent banner ({removed_chars} of "
                                  f"{removed_chars + len(text)} characters); {len(text)} characters of other text")
        raise ExtractionError("no_main_text",
                              f"{len(text)} characters of main text, fewer than [extract] min_chars = {min_chars}")

    # List/index pages: most visible text is link text, or the "main text" is a row of link titles.
    anchor_texts = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    anchor_texts.discard("")
    text_lines = [ln for ln in text.split("\n") if ln.strip()]
    link_lines = sum(1 for ln in text_lines if ln in anchor_texts)
    main_link_share = link_lines / len(text_lines) if text_lines else 0.0
    is_article = not (link_density > 0.6 or (main_link_share > 0.5 and len(text_lines) >= 4))

    title = getattr(doc, "title", None) or _first_attr(tree, "//title/text()")
    date = getattr(doc, "date", None)
    return Extracted(
        text=text,
        title=" ".join(title.split()) if title else None,
        date=date or None,
        canonical_url=canonical,
        html_lang=html_lang,
        links=links,
        og_url=og_url,
        is_article=is_article,
        banner_share=round(banner_share, 4),
        meta={
            "is_article": is_article,
            "banner_share": round(banner_share, 4),
            "link_density": round(link_density, 4),
            "main_link_share": round(main_link_share, 4),
            "sitename": getattr(doc, "sitename", None),
            "description": getattr(doc, "description", None),
        },
    )
