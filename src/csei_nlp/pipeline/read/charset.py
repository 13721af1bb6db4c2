"""Charset decoding: bytes of HTML pages and text files -> str, with one charset policy for all inputs.

Why our own decoder: trafilatura, given bytes, trusts its detector over a page's
``<meta charset>`` and only looks at the start of the page, and detectors report
windows-1250 pages as ISO-8859-2. Central and Eastern European sites still serve
windows-1250/1251/1257 and ISO-8859-2 pages, so a wrong guess garbles exactly the
letters (ą, ř, š, ž, ė, ї ...) the later stages need. We decide the charset here,
in the WHATWG order (BOM, HTTP header, ``<meta>``, then a detector), and hand a str on.
Text files (:func:`decode_text`) follow the same order without the markup steps.
"""
from __future__ import annotations

import codecs
import re

# WHATWG "Encoding" labels that Python spells differently or that browsers treat
# as a superset. Latin-1 and ASCII labels are decoded as windows-1252, as browsers do.
_LABEL_MAP: dict[str, str] = {
    **dict.fromkeys(
        ("ascii", "us-ascii", "latin1", "latin-1", "l1", "iso-8859-1", "iso8859-1", "iso_8859-1",
         "iso_8859-1:1987", "iso-ir-100", "ibm819", "cp819", "csisolatin1", "x-cp1252",
         "ansi_x3.4-1968", "iso88591", "windows-1252", "cp1252"),
        "cp1252",
    ),
    **dict.fromkeys(("iso-8859-9", "iso8859-9", "latin5", "l5", "iso-ir-148", "windows-1254"), "cp1254"),
    **dict.fromkeys(("iso-8859-11", "tis-620", "windows-874", "dos-874"), "cp874"),
    **dict.fromkeys(("gb2312", "gbk", "x-gbk", "chinese", "csgb2312", "gb_2312-80", "iso-ir-58"), "gb18030"),
    **dict.fromkeys(("euc-kr", "ks_c_5601-1987", "ks_c_5601-1989", "korean", "windows-949", "csksc56011987"), "cp949"),
    **dict.fromkeys(("shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "ms932", "windows-31j", "csshiftjis"), "cp932"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac-cyrillic"),
    **dict.fromkeys(("utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8"), "utf-8"),
    "iso-8859-8-i": "iso8859-8",
    "csiso88598i": "iso8859-8",
    "x-user-defined": "cp1252",
}

# ISO-8859-x pages whose bytes use the C1 range 0x80-0x9F were written in the
# matching Windows code page (C1 codes are invisible controls in ISO-8859, but
# letters and quotes such as Š š Ž ž „ ” in Windows code pages).
_ISO_TO_WINDOWS = {
    "iso8859-2": "cp1250",
    "iso8859-4": "cp1257",
    "iso8859-7": "cp1253",
    "iso8859-13": "cp1257",
    "iso8859-15": "cp1252",
}

_PRETTY = {
    "cp1250": "windows-1250", "cp1251": "windows-1251", "cp1252": "windows-1252",
    "cp1253": "windows-1253", "cp1254": "windows-1254", "cp1255": "windows-1255",
    "cp1256": "windows-1256", "cp1257": "windows-1257", "cp1258": "windows-1258",
    "iso8859-2": "iso-8859-2", "iso8859-4": "iso-8859-4", "iso8859-5": "iso-8859-5",
    "iso8859-7": "iso-8859-7", "iso8859-13": "iso-8859-13", "iso8859-15": "iso-8859-15",
    "iso8859-8": "iso-8859-8", "iso8859-16": "iso-8859-16", "mac-cyrillic": "x-mac-cyrillic",
}

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

_COMMENT_RE = re.compile(rb"<!--.*?-->", re.S)
_META_RE = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:\-]+)", re.I | re.S)
_HEAD_END_RE = re.compile(rb"</head\s*>|<body[\s>]", re.I)
_MOJIBAKE_HINT_RE = re.compile(
    "[\u00c2-\u00c5\u00ce\u00cf\u00d0\u00d1\u00e2][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178"
    "\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
_HTML_LANG_RE = re.compile(rb"<html\b[^>]*?\blang\s*=\s*[\"']?\s*([A-Za-z]{2,3})", re.I)
_C1_RE = re.compile("[\u0080-\u009f]")
_CP1250 = ("cp1250", "iso8859-2")
_CP1251 = ("cp1251",)
_CP1257 = ("cp1257", "iso8859-13")
# Only languages whose legacy code pages are distinct from windows-1252; a wrong
# lang="en" on a Polish page must not force windows-1252.
_LANG_CODEPAGES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("cs", "sk", "pl", "hu", "sl", "hr", "bs", "ro", "sq"), _CP1250),
    **dict.fromkeys(("lt", "lv", "et"), _CP1257),
    **dict.fromkeys(("bg", "uk", "ru", "mk", "be"), _CP1251),
    "el": ("cp1253", "iso8859-7"),
}
_META_SCAN_BYTES = 64 * 1024
_DETECT_BYTES = 256 * 1024


def normalize_charset(label: str | None) -> str | None:
    """A Python codec name for a charset label from a header or ``<meta>``, or None if unknown."""
    if not label:
        return None
    key = label.strip().strip("\"'").lower()
    if not key:
        return None
    key = _LABEL_MAP.get(key, key)
    try:
        name = codecs.lookup(key).name
    except LookupError:
        return None
    # utf-16/32 declared in a page we are reading as ASCII-compatible bytes is a
    # leftover from a re-encoded page; browsers read it as UTF-8.
    if name.startswith(("utf-16", "utf-32")):
        return "utf-8"
    if name == "iso8859-1":  # a latin-1 spelling the map above does not list
        return "cp1252"
    return name


def pretty_charset(name: str) -> str:
    """The WHATWG-style spelling of a Python codec name (``cp1250`` -> ``windows-1250``)."""
    return _PRETTY.get(name, name)


def _prefer_windows(name: str, data: bytes) -> str:
    win = _ISO_TO_WINDOWS.get(name)
    if win and re.search(rb"[\x80-\x9f]", data):
        return win
    return name


def _lang_codepages(data: bytes) -> tuple[str, ...]:
    m = _HTML_LANG_RE.search(data[:_META_SCAN_BYTES])
    if not m:
        return ()
    return _LANG_CODEPAGES.get(m.group(1).decode("ascii", "ignore").lower(), ())


def find_meta_charset(data: bytes) -> str | None:
    """The charset declared by ``<meta charset>`` or ``<meta http-equiv>``, as a codec name.

    Looks through the whole ``<head>`` (up to 64 KB): CMS themes often put the
    declaration after long ``<script>``/``<style>`` blocks, well past the first 4 KB.
    """
    window = data[:_META_SCAN_BYTES]
    window = _COMMENT_RE.sub(b" ", window)
    end = _HEAD_END_RE.search(window)
    head = window[: end.start()] if end else window
    for m in _META_RE.finditer(head):
        name = normalize_charset(m.group(1).decode("ascii", "ignore"))
        if name:
            return name
    return None


def _strict(data: bytes, name: str) -> str | None:
    try:
        return data.decode(name)
    except (UnicodeDecodeError, LookupError):
        return None


def _detect(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:_DETECT_BYTES]).best()
    if best is None:
        return None
    return normalize_charset(best.encoding)


def _repair_mojibake(text: str) -> tuple[str, bool]:
    """Undo UTF-8-read-as-Latin-1 damage, but only when ftfy is sure it helps."""
    # Cheap gate: UTF-8 lead bytes seen as Latin-1/cp1252 letters followed by a continuation.
    if len(_MOJIBAKE_HINT_RE.findall(text, 0, 200_000)) < 3:
        return text, False
    import ftfy
    from ftfy.badness import badness

    before = badness(text)
    if before < 3:
        return text, False
    fixed = ftfy.fix_encoding(text)
    if fixed != text and badness(fixed) < before / 2:
        return fixed, True
    return text, False


def decode_html(data: bytes, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML page: BOM, then HTTP charset, then ``<meta>``, then UTF-8, then a detector.

    Returns ``(text, encoding)`` where ``encoding`` names what was used
    (``windows-1250``, ``utf-8`` ...; ``+ftfy`` is appended when mojibake was repaired).
    Never raises: undecodable bytes become U+FFFD as a last resort.
    """
    if isinstance(data, str):  # already decoded upstream
        return data, "str"
    for bom, name in _BOMS:
        if data.startswith(bom):
            text = data.decode(name, "replace")
            return text.lstrip("\ufeff"), "utf-8" if name == "utf-8-sig" else name

    declared: list[str] = []
    for label in (normalize_charset(http_charset), find_meta_charset(data)):
        if label and label not in declared:
            declared.append(label)

    for name in declared:
        name = _prefer_windows(name, data)
        text = _strict(data, name)
        if text is None and name == "cp1252":
            # WHATWG maps the five bytes Python's cp1252 leaves undefined to C1 controls.
            text = data.decode(name, "replace")
        if text is not None:
            return _finish(text, name)

    text = _strict(data, "utf-8")
    if text is not None:
        return _finish(text, "utf-8")

    # Undeclared legacy page: in CEE languages the <html lang> names the code page family
    # better than a detector does (detectors confuse windows-1257 with windows-1258, 1250 with 1252).
    for name in _lang_codepages(data):
        text = _strict(data, name)
        if text is not None and not _C1_RE.search(text):
            return _finish(text, name)

    name = _detect(data)
    if name:
        name = _prefer_windows(name, data)
        text = _strict(data, name)
        if text is not None:
            return _finish(text, name)
    # Declared, but the bytes do not fit it: trust the declaration with replacement.
    name = _prefer_windows(declared[0], data) if declared else "cp1252"
    return data.decode(name, "replace"), pretty_charset(name)


def _finish(text: str, name: str) -> tuple[str, str]:
    text, repaired = _repair_mojibake(text)
    label = pretty_charset(name)
    return text, label + "+ftfy" if repaired else label


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` for bytes without a declared charset. Never raises."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name, "replace").lstrip("\ufeff"), "utf-8" if name == "utf-8-sig" else name
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    name = _detect(data)
    if name:
        text = _strict(data, name)
        if text is not None:
            return text, pretty_charset(name)
    return data.decode("cp1252", "replace"), "windows-1252"
