"""Build the PDF reports of the bundled sample corpus.

    python corpora/tools/make_pdfs.py [--seed PATH]

Writes, under corpora/sample/:

* reports/geces_csei_report_2021_excerpt.pdf: the GECES sub-group report on
  Clusters of Social and Ecological Innovation (European Commission, 2021,
  CC-BY 4.0), converted from its markdown text to a PDF.  Included parts:
  the title pages and legal notice, the Executive summary, Policy Context,
  Introduction, chapter 1 (literature) and chapter 2 (the CSEI concept), and
  Appendices III and IV (the case lists).  Markdown syntax is removed; the
  words are unchanged.  The first page carries the credit line.
* reports/spravodajca_partnerstvo_dolna_luka.pdf: a two-column newsletter, in
  Slovak, of a fictional regional social-economy partnership (text written
  for this corpus, source in ``NEWSLETTER`` below).
* broken/spravodajca_truncated.pdf: the newsletter cut to 40% of its bytes,
  as a truncated download looks; the sample failure report shows it.

The seed text is read from ``$CSEI_SHARED/seeds`` or ``../shared/seeds`` next to
the clone.  The DejaVu fonts (Debian fonts-dejavu-core) are embedded, so the
PDFs render Central European letters without the font installed.
"""
from __future__ import annotations

import argparse
import html
import io
import os
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpora" / "sample"
SEED_NAME = "000_2137871cfc3ac5ad.txt"
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {
    "DejaVuSans": "DejaVuSans.ttf",
    "DejaVuSans-Bold": "DejaVuSans-Bold.ttf",
    "DejaVuSans-Oblique": "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
}

CREDIT = (
    "Source: European Commission, GECES sub-group report 'Clusters of Social and Ecological "
    "Innovation in the European Union, perspectives and experiences' (2021), CC-BY 4.0; "
    "converted to PDF, text unchanged apart from layout. Parts included: title pages and legal "
    "notice, Executive summary, Policy Context, Introduction, chapters 1 and 2, Appendices III "
    "and IV; the other chapters and appendices are left out."
)

# Headings of the seed (markdown, without leading #'s and emphasis) that start and end the
# parts we take: (first heading, heading after the last line taken).
REPORT_PARTS: list[tuple[str, str | None]] = [
    ("CLUSTERS OF SOCIAL AND ECOLOGICAL INNOVATION IN THE EUROPEAN UNION, PERSPECTIVES AND EXPERIENCES",
     "Table of Contents"),
    ("Executive summary", "3. Identifying and analysing CSEI"),
    ("Appendix III: List of identified clusters and other forms of cooperation",
     "Appendix V: EUSES session on CSEI"),
]

# Written for this corpus: a fictional partnership in a fictional municipality.
NEWSLETTER_TITLE = "Spravodajca Partnerstva sociálnej ekonomiky Dolná Lúka"
NEWSLETTER_SUBTITLE = "Číslo 3, jar 2024 · pre členov, obce a priateľov partnerstva"
NEWSLETTER: list[tuple[str, str]] = [
    ("h", "Päť rokov spolupráce"),
    ("p", "Partnerstvo sociálnej ekonomiky Dolná Lúka vzniklo v roku 2019, keď sa obec, dva "
          "registrované sociálne podniky, stredná odborná škola a občianske združenie Zelený dvor "
          "dohodli, že budú spoločne riešiť nezamestnanosť a odpad v regióne. Dnes má partnerstvo "
          "štrnásť členov vrátane katedry environmentalistiky na regionálnej univerzite, miestnej "
          "pobočky banky a troch malých firiem, ktoré odoberajú služby sociálnych podnikov."),
    ("p", "Členovia sa stretávajú štyrikrát ročne na valnom zhromaždení. Každý člen má jeden hlas "
          "bez ohľadu na veľkosť, a o rozpočte spoločného fondu rozhoduje väčšina prítomných. "
          "Zápisnice a výročné správy sú verejné na obecnej úradnej tabuli aj na webe partnerstva."),
    ("h", "Opravovňa a obehové hospodárstvo"),
    ("p", "Najviditeľnejším výsledkom je opravovňa v bývalom kultúrnom dome. Opravujú sa tu "
          "bicykle, nábytok a drobné elektrospotrebiče; čo sa opraviť nedá, rozoberie sa na "
          "náhradné diely. Za minulý rok opravovňa vrátila do používania takmer osem ton vecí, "
          "ktoré by inak skončili na skládke."),
    ("p", "Pracuje v nej deväť ľudí, ktorí boli predtým dlhodobo bez práce. Sociálny podnik "
          "Opravme to im popri práci platí rekvalifikačný kurz a dvaja z nich už prešli do "
          "stálych pracovných pomerov v miestnych firmách. Študenti univerzity merajú, koľko "
          "materiálu a emisií opravy ušetria, a výsledky zverejňujú raz ročne."),
    ("h", "Miestne potraviny v školských jedálňach"),
    ("p", "Druhý sociálny podnik, Záhrada pod lesom, pestuje zeleninu na obecných pozemkoch a "
          "dodáva ju do troch školských jedální v okolí. Obec do súťaže na dodávku potravín "
          "zaradila sociálny aspekt a krátky dodávateľský reťazec, takže miestny dodávateľ mohol "
          "uspieť aj proti veľkým distribútorom. Biologický odpad z jedální sa vracia do "
          "kompostárne, ktorú spravuje občianske združenie."),
    ("p", "Rodičia najviac oceňujú, že deti vedia, odkiaľ jedlo pochádza. Žiaci odbornej školy "
          "chodia do záhrady na povinnú prax a dvaja absolventi si založili vlastnú farmu, ktorá "
          "je dnes novým členom partnerstva."),
    ("h", "Ako partnerstvo financujeme"),
    ("p", "Spoločný fond sa skladá z členských príspevkov, z desatiny zisku sociálnych podnikov a "
          "z grantov. Z Európskeho sociálneho fondu plus sme získali podporu na mzdy a školenia, "
          "obec prispieva priestormi a energiami. Banka poskytla úver so zvýhodneným úrokom na "
          "nákup dodávky, ktorú zdieľajú všetci členovia."),
    ("p", "Zisk sa nerozdeľuje medzi vlastníkov. Sociálne podniky ho podľa zákona o sociálnej "
          "ekonomike a sociálnych podnikoch používajú na dosahovanie svojho verejnoprospešného "
          "cieľa: na nové pracovné miesta, vybavenie a vzdelávanie zamestnancov."),
    ("h", "Čo nás čaká"),
    ("p", "Na jeseň otvoríme spoločnú kuchyňu, ktorá bude variť obedy pre seniorov v štyroch "
          "obciach mikroregiónu. Pripravujeme aj žiadosť o členstvo v európskej platforme pre "
          "spoluprácu klastrov, pretože chceme svoje skúsenosti porovnať s podobnými "
          "partnerstvami v Poľsku, Česku a Maďarsku."),
    ("p", "Ak máte nápad na nový sociálny podnik alebo chcete partnerstvu pomôcť ako dobrovoľník, "
          "príďte na najbližšie valné zhromaždenie. Koná sa v prvý štvrtok v júni o 17.00 v "
          "kultúrnom dome a je otvorené pre všetkých obyvateľov."),
    ("h", "Krátke správy"),
    ("p", "Univerzita a partnerstvo podpísali dohodu o spolupráci na výskume sociálnych inovácií "
          "vo vidieckych obciach. Prvý seminár pre starostov sa uskutoční v septembri."),
    ("p", "Opravovňa hľadá staré šijacie stroje. Po oprave ich dostanú ženy, ktoré sa v kurze "
          "krajčírstva učia šiť pracovné odevy pre členov partnerstva."),
    ("p", "Kompostáreň tento rok prvýkrát predávala kompost záhradkárom. Výnos ide do spoločného "
          "fondu a pokryje opravu oplotenia záhrady."),
]


def register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, file in FONT_FILES.items():
        path = FONT_DIR / file
        if not path.is_file():
            sys.exit(f"{path} not found: install the Debian package fonts-dejavu-core")
        pdfmetrics.registerFont(TTFont(name, str(path)))
    addMapping("DejaVuSans", 0, 0, "DejaVuSans")
    addMapping("DejaVuSans", 1, 0, "DejaVuSans-Bold")
    addMapping("DejaVuSans", 0, 1, "DejaVuSans-Oblique")
    addMapping("DejaVuSans", 1, 1, "DejaVuSans-BoldOblique")


def styles() -> dict[str, object]:
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=9.5, leading=12.5, spaceAfter=5)
    return {
        "body": body,
        "just": ParagraphStyle("just", parent=body, alignment=TA_JUSTIFY),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9, spaceAfter=0),
        "credit": ParagraphStyle("credit", parent=body, fontName="DejaVuSans-Oblique", fontSize=8,
                                 leading=10, spaceAfter=12),
        "bullet": ParagraphStyle("bullet", parent=body, leftIndent=14, bulletIndent=4),
        "h1": ParagraphStyle("h1", parent=body, fontName="DejaVuSans-Bold", fontSize=15, leading=19,
                             spaceBefore=10, spaceAfter=8),
        "h2": ParagraphStyle("h2", parent=body, fontName="DejaVuSans-Bold", fontSize=12.5,
                             leading=16, spaceBefore=8, spaceAfter=6),
        "h3": ParagraphStyle("h3", parent=body, fontName="DejaVuSans-Bold", fontSize=10.5,
                             leading=14, spaceBefore=6, spaceAfter=4),
        "title": ParagraphStyle("title", parent=body, fontName="DejaVuSans-Bold", fontSize=17,
                                leading=21, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontName="DejaVuSans-Oblique",
                                   fontSize=9, spaceAfter=10),
    }


# --- markdown to reportlab paragraph markup ----------------------------------------------

_TAG_RE = re.compile(r"<a\s+href=\"[^\"]*\">(.*?)</a>|<(/?)(b|i|sup)>|<(https?://[^>\s]+)>", re.S)


def inline(md: str) -> str:
    """One line of the seed's markdown/HTML mix to reportlab markup, words unchanged."""
    md = re.sub(r"\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)", r"\1", md)  # [text](url) -> text
    md = re.sub(r"\\([\\`*_{}\[\]()#+\-.!&])", r"\1", md)  # markdown backslash escapes
    out: list[str] = []
    pos = 0
    for m in _TAG_RE.finditer(md):
        out.append(html.escape(html.unescape(md[pos:m.start()]), quote=False))
        if m.group(1) is not None:
            out.append(html.escape(html.unescape(re.sub(r"<[^>]+>", "", m.group(1))), quote=False))
        elif m.group(3):
            tag = "super" if m.group(3) == "sup" else m.group(3)
            out.append(f"<{m.group(2)}{tag}>")
        else:
            out.append(html.escape(m.group(4), quote=False))
        pos = m.end()
    out.append(html.escape(html.unescape(md[pos:]), quote=False))
    text = "".join(out)
    text = re.sub(r"\*\*\*(.+?)\*\*\*", r"<b><i>\1</i></b>", text)
    text = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"<i>\1</i>", text)
    return text.replace("*", "")


def _plain_heading(line: str) -> str:
    return re.sub(r"[*_]", "", line.lstrip("#")).strip()


def seed_parts(lines: list[str]) -> list[str]:
    taken: list[str] = []
    for first, stop in REPORT_PARTS:
        start = next((i for i, l in enumerate(lines)
                      if l.startswith("#") and _plain_heading(l) == first), None)
        if start is None:
            sys.exit(f"seed text: heading {first!r} not found; has the seed changed?")
        end = next((i for i in range(start + 1, len(lines))
                    if lines[i].startswith("#") and _plain_heading(lines[i]) == stop), len(lines))
        taken.extend(lines[start:end])
        taken.append("")
    return taken


def report_story(lines: list[str], st: dict[str, object]) -> list[object]:
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    def para_of(markup: str, style: object, **kw: object) -> Paragraph:
        try:
            return Paragraph(markup, style, **kw)
        except ValueError:  # emphasis markers that do not nest: keep the words, drop the styling
            return Paragraph(re.sub(r"</?(b|i)>", "", markup), style, **kw)

    story: list[object] = [Paragraph(html.escape(CREDIT, quote=False), st["credit"])]
    para: list[str] = []
    table: list[list[str]] = []

    def flush_para() -> None:
        if para:
            story.append(para_of("<br/>".join(inline(l.rstrip()) for l in para), st["just"]))
            para.clear()

    def flush_table() -> None:
        if not table:
            return
        n = max(len(r) for r in table)
        rows = [[para_of(inline(c.strip()), st["cell"]) for c in r + [""] * (n - len(r))]
                for r in table]
        t = Table(rows, repeatRows=0, hAlign="LEFT", colWidths=[480.0 / n] * n)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        story.extend([t, Spacer(1, 6)])
        table.clear()

    for raw in lines:
        line = raw.rstrip("\n")
        if "\t" in line:
            flush_para()
            table.append(line.split("\t"))
            continue
        flush_table()
        stripped = line.strip()
        if not stripped or stripped == "---":
            flush_para()
        elif stripped.startswith("#"):
            flush_para()
            level = len(stripped) - len(stripped.lstrip("#"))
            style = st["h1"] if level == 1 else st["h2"] if level == 2 else st["h3"]
            story.append(para_of(inline(stripped.lstrip("#").strip()), style))
        elif stripped.startswith("- "):
            flush_para()
            story.append(para_of(inline(stripped[2:]), st["bullet"], bulletText="•"))
        else:
            para.append(line)
    flush_para()
    flush_table()
    return story


def build_report(seed: Path, out: Path) -> int:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import SimpleDocTemplate

    lines = seed.read_text("utf-8").splitlines()
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf, pagesize=A4, invariant=1, leftMargin=56, rightMargin=56, topMargin=56, bottomMargin=56,
        title="Clusters of Social and Ecological Innovation in the European Union (excerpt)",
        author="European Commission, GECES sub-group", subject="CC-BY 4.0; see corpora/CREDITS-reports.md",
    )
    doc.build(report_story(seed_parts(lines), styles()))
    out.write_bytes(buf.getvalue())
    return doc.page


def newsletter_bytes() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import BaseDocTemplate, Frame, FrameBreak, PageTemplate, Paragraph

    st = styles()
    w, h = A4
    margin, gutter = 50.0, 22.0
    col_w = (w - 2 * margin - gutter) / 2
    head_h = 100.0

    def columns(top: float) -> list[Frame]:
        return [Frame(margin + i * (col_w + gutter), margin, col_w, top - margin, id=f"col{i}",
                      leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)
                for i in range(2)]

    first = [Frame(margin, h - margin - head_h, w - 2 * margin, head_h, id="head",
                   leftPadding=0, rightPadding=0)] + columns(h - margin - head_h - 8)
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, invariant=1, title=NEWSLETTER_TITLE,
                          author="Partnerstvo sociálnej ekonomiky Dolná Lúka (fiktívne)")
    doc.addPageTemplates([
        PageTemplate(id="first", frames=first, autoNextPageTemplate="rest"),
        PageTemplate(id="rest", frames=columns(h - margin)),
    ])
    story: list[object] = [
        Paragraph(html.escape(NEWSLETTER_TITLE), st["title"]),
        Paragraph(html.escape(NEWSLETTER_SUBTITLE), st["subtitle"]),
        FrameBreak(),
    ]
    for kind, text in NEWSLETTER:
        story.append(Paragraph(html.escape(text), st["h3"] if kind == "h" else st["just"]))
    doc.build(story)
    return buf.getvalue()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=Path, help=f"path to {SEED_NAME}")
    args = ap.parse_args()
    seed = args.seed
    if seed is None:
        shared = Path(os.environ.get("CSEI_SHARED", REPO.parent / "shared"))
        seed = shared / "seeds" / SEED_NAME
    if not seed.is_file():
        sys.exit(f"{seed}: seed text not found (pass --seed or set CSEI_SHARED)")
    register_fonts()
    reports, broken = SAMPLE / "reports", SAMPLE / "broken"
    reports.mkdir(parents=True, exist_ok=True)
    broken.mkdir(parents=True, exist_ok=True)
    out = reports / "geces_csei_report_2021_excerpt.pdf"
    pages = build_report(seed, out)
    print(f"{out.relative_to(REPO)}: {pages} pages, {out.stat().st_size:,} bytes")
    news = newsletter_bytes()
    out = reports / "spravodajca_partnerstvo_dolna_luka.pdf"
    out.write_bytes(news)
    print(f"{out.relative_to(REPO)}: {len(news):,} bytes")
    out = broken / "spravodajca_truncated.pdf"
    out.write_bytes(news[: len(news) * 2 // 5])
    print(f"{out.relative_to(REPO)}: {out.stat().st_size:,} bytes (truncated)")


if __name__ == "__main__":
    main()
