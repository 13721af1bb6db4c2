"""Find and remove cookie / consent banners, in all EU languages and the neighbours'.

Main-text extractors often return the cookie banner as part of the page, or as
the whole page when the content is short (trafilatura#569). A banner sentence
then reaches language detection, cue matching and the classifier on every page
of a site. This module recognises consent text by two signals together - a
"cookie" word (cookie, ciasteczka, sütik, piškotki, kolačići, slapukai,
sīkdatnes, küpsised, evästeet, бисквитки, колачиња ...) and a consent/website
word (accept, souhlas, elfogad, privacy, strona, honlap, сайт ...) - so that a
bakery's page about its cookies is not taken for a banner. Short button lines
("Elfogadom", "Rozumiem", "Alle akzeptieren") go only when next to a banner.

The phrase lists were written for this project, one group per language.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# "cookie" in the languages that have their own word for it; most use "cookie(s)".
_COOKIE_WORDS = [
    r"cookie", r"cookies", r"ciasteczk", r"sütik", r"sütit", r"süti\b", r"sütiket", r"piškot",
    r"kolačić", r"kolacic", r"kolačići", r"колачић", r"колачиња", r"колачињ", r"бисквитк", r"куки",
    r"slapuk", r"sīkdatn", r"sikdatn", r"küpsis", r"küpsise", r"evästei", r"evästee", r"eväste",
    r"kakor\b", r"kakorna", r"fianá", r"biskota", r"μπισκότ",
]

# Consent, privacy and "this website" words; prefixes, matched at a word start.
_CONTEXT: dict[str, list[str]] = {
    "en": ["accept", "agree", "consent", "privacy", "policy", "settings", "preferences", "website",
           "this site", "our site", "browsing", "browser", "experience", "analytics", "statistic",
           "necessary", "essential", "third-part", "third part", "personal data", "gdpr", "learn more",
           "more info", "allow", "reject", "decline"],
    "pl": ["akceptuj", "zgod", "zgadzam", "prywatnoś", "polityk", "ustawie", "przeglądar",
           "przeglądani", "stron", "serwis", "statysty", "niezbędn", "rodo", "więcej", "odrzuć"],
    "cs": ["souhlas", "přijm", "zásad", "soukrom", "nastaven", "prohlížeč", "web", "stránk", "analyt",
           "statist", "nezbytn", "nutn", "více informací", "odmítn"],
    "sk": ["súhlas", "prijať", "prijm", "zásad", "súkrom", "nastaven", "prehliadač", "web", "stránk",
           "analyt", "nevyhnutn", "viac", "odmietn"],
    "hu": ["elfogad", "hozzájárul", "adatvédel", "beállítás", "böngész", "honlap", "weboldal", "oldal",
           "látogat", "statiszt", "szükséges", "tájékoztató", "elutasít"],
    "de": ["akzeptier", "zustimm", "einwillig", "datenschutz", "einstellung", "browser", "website",
           "webseite", "seite", "nutzung", "analyse", "statist", "notwendig", "erforderlich", "dsgvo",
           "mehr erfahren", "weitere informationen", "ablehnen"],
    "fr": ["accept", "consent", "confidentialité", "données personnelles", "paramètr", "navigat", "site",
           "expérience", "statisti", "nécessaire", "refuser", "gérer", "rgpd", "en savoir plus"],
    "es": ["acept", "consentim", "privacidad", "configura", "navegador", "navegación", "sitio", "web",
           "experiencia", "estadístic", "necesari", "rechaz", "más información"],
    "it": ["accett", "consenso", "privacy", "impostazion", "browser", "navigazion", "sito", "esperienza",
           "statistic", "tecnici", "necessari", "rifiut", "maggiori informazioni"],
    "pt": ["aceit", "consentimento", "privacidade", "definições", "configura", "navegador", "navegação",
           "site", "sítio", "experiência", "estatístic", "necessári", "rejeit", "saber mais"],
    "nl": ["accepteer", "akkoord", "toestemming", "privacy", "instellingen", "browser", "website", "site",
           "ervaring", "statistiek", "noodzakelijk", "weiger", "meer informatie"],
    "da": ["accepter", "godkend", "samtykke", "privatliv", "indstillinger", "browser", "hjemmeside",
           "websted", "oplevelse", "statistik", "nødvendige", "afvis", "læs mere"],
    "sv": ["godkänn", "accepter", "samtycke", "integritet", "inställningar", "webbläsare", "webbplats",
           "sajt", "upplevelse", "statistik", "nödvändig", "avvisa", "läs mer"],
    "fi": ["hyväksy", "suostum", "tietosuoja", "asetukset", "selain", "sivusto", "verkkosivu",
           "käyttökokemus", "tilasto", "välttämät", "hylkää", "lue lisää"],
    "et": ["nõustu", "nõusolek", "privaatsus", "seaded", "brauser", "veebileh", "veebisait", "lehe",
           "statistik", "vajalik", "keeldu", "loe lähemalt", "rohkem teavet"],
    "lv": ["piekrīt", "piekrist", "piekrišan", "privātum", "iestatījum", "pārlūk", "vietn", "tīmekļa",
           "statistik", "nepieciešam", "noraidīt", "uzzināt vairāk"],
    "lt": ["sutinku", "sutikim", "sutikt", "privatum", "nustatym", "naršykl", "svetain", "tinklalap",
           "statistik", "būtin", "atmesti", "daugiau informacijos"],
    "ro": ["accept", "consimț", "consimt", "confidențialit", "confidentialit", "setări", "browser",
           "navigar", "site", "experienț", "statistic", "necesare", "refuz", "află mai multe"],
    "bg": ["приемам", "приеми", "съглас", "поверителност", "настройки", "браузър", "сайт", "уебсайт",
           "статисти", "необходими", "отказ", "научете повече"],
    # Croatian, Bosnian, Serbian (Latin script)
    "hbs": ["prihvać", "prihvat", "slažem", "suglas", "saglas", "privatnost", "postavk", "podešavanj",
            "preglednik", "pretraživač", "stranic", "sajt", "web", "statisti", "nužn", "neophodn", "odbij",
            "saznajte više", "više informacija"],
    "sr": ["прихват", "слажем", "сагласн", "приватност", "подешавањ", "прегледач", "претраживач", "сајт",
           "страниц", "статисти", "неопходн", "одбиј"],
    "mk": ["прифаќ", "согласув", "согласност", "приватност", "поставк", "прелистувач", "веб-страниц",
           "страница", "сајт", "статисти", "неопходн", "одбиј"],
    "uk": ["погоджу", "згод", "приватн", "конфіденційн", "налаштуван", "браузер", "сайт", "статисти",
           "необхідн", "відхил", "детальніше"],
    "ru": ["соглас", "принима", "конфиденциальн", "настройк", "браузер", "сайт", "статисти", "необходим",
           "отклон", "подробнее"],
    "sl": ["sprejm", "strinjam", "soglasj", "zasebnost", "nastavitv", "brskal", "spletn", "stran",
           "statisti", "nujn", "zavrni", "več informacij"],
    "el": ["αποδοχ", "αποδέχ", "συναίνεσ", "συγκατάθεσ", "απόρρητ", "ρυθμίσ", "περιήγησ", "ιστότοπ",
           "ιστοσελίδ", "στατιστικ", "απαραίτητ", "απόρριψ"],
    "mt": ["naċċetta", "aċċetta", "kunsens", "privatezza", "sit", "websajt", "esperjenza", "meħtieġa"],
    "ga": ["glac", "toiliú", "príobháideachas", "socruithe", "brabhsála", "suíomh", "láithreán",
           "staitistic", "riachtanach"],
    "sq": ["pranoj", "prano", "pëlqim", "privatësi", "cilësime", "shfletues", "faqe", "uebfaqe",
           "statistik", "nevojshme", "refuzo"],
}

# Whole lines that are consent buttons or links (compared in lower case, without punctuation).
_BUTTONS = {
    # en
    "accept", "accept all", "accept cookies", "accept all cookies", "allow all", "allow cookies", "reject",
    "reject all", "decline", "agree", "i agree", "i accept", "ok", "okay", "got it", "settings",
    "cookie settings", "manage cookies", "manage preferences", "more info", "more information", "learn more",
    "only necessary", "necessary only", "save preferences", "customize", "close",
    # pl
    "rozumiem", "akceptuję", "akceptuje", "zgadzam się", "zgoda", "odrzuć", "ustawienia", "więcej",
    "akceptuj wszystkie", "zamknij", "tylko niezbędne",
    # cs / sk
    "souhlasím", "přijmout", "přijmout vše", "odmítnout", "nastavení", "více informací", "rozumím",
    "súhlasím", "prijať", "prijať všetko", "odmietnuť", "nastavenia", "viac informácií", "rozumiem",
    # hu
    "elfogadom", "elfogad", "mindet elfogadom", "elutasítom", "beállítások", "rendben", "értem",
    # de
    "alle akzeptieren", "akzeptieren", "nur notwendige", "ablehnen", "einstellungen", "zustimmen",
    "einverstanden", "mehr erfahren", "verstanden", "alle ablehnen",
    # fr
    "accepter", "tout accepter", "refuser", "tout refuser", "paramétrer", "personnaliser", "j'accepte",
    "en savoir plus", "continuer sans accepter",
    # es / pt / it
    "aceptar", "aceptar todo", "aceptar todas", "rechazar", "configurar", "más información", "acepto",
    "aceitar", "aceitar todos", "aceito", "rejeitar", "saber mais", "concordo",
    "accetto", "accetta", "accetta tutti", "rifiuta", "solo tecnici", "personalizza", "maggiori informazioni",
    # nl / da / sv / fi / et
    "accepteren", "alles accepteren", "akkoord", "weigeren", "instellingen", "meer informatie",
    "accepter alle", "godkend", "afvis", "indstillinger", "læs mere", "jeg accepterer",
    "acceptera", "acceptera alla", "godkänn", "avvisa", "inställningar", "läs mer", "jag godkänner",
    "hyväksy", "hyväksy kaikki", "hylkää", "asetukset", "lue lisää", "hyväksyn",
    "nõustun", "nõustu", "keeldu", "seaded", "loe lähemalt",
    # lv / lt / ro
    "piekrītu", "piekrist", "noraidīt", "iestatījumi", "uzzināt vairāk", "sapratu",
    "sutinku", "sutikti", "atmesti", "nustatymai", "daugiau informacijos", "supratau",
    "accept toate", "acceptă", "accept tot", "refuz", "setări", "află mai multe", "sunt de acord",
    # bg / hbs / sr / mk / uk / ru / sl
    "приемам", "приеми", "откажи", "настройки", "научете повече", "разбрах",
    "prihvaćam", "prihvati", "prihvatam", "slažem se", "odbij", "postavke", "saznajte više", "u redu",
    "прихватам", "прихвати", "слажем се", "одбиј", "подешавања",
    "прифаќам", "прифати", "се согласувам", "одбиј", "поставки",
    "погоджуюсь", "погоджуюся", "прийняти", "прийняти все", "відхилити", "налаштування", "детальніше", "зрозуміло",
    "согласен", "принять", "принять все", "отклонить", "подробнее", "понятно",
    "sprejmem", "sprejmi", "strinjam se", "zavrni", "nastavitve", "več informacij", "razumem",
    # el / mt / ga / sq
    "αποδοχή", "αποδέχομαι", "απόρριψη", "ρυθμίσεις", "aċċetta", "naċċetta", "glac", "glacaim",
    "pranoj", "prano", "refuzo", "cilësimet",
}

_WORD = r"(?<![^\W\d_])"  # a prefix must start a word
_COOKIE_RE = re.compile(_WORD + "(?:" + "|".join(_COOKIE_WORDS) + ")", re.I)
_CONTEXT_RE = re.compile(
    _WORD + "(?:" + "|".join(re.escape(w) for w in sorted({w for ws in _CONTEXT.values() for w in ws},
                                                           key=len, reverse=True)) + ")",
    re.I,
)
_PUNCT_RE = re.compile(r"[\s\W_]+", re.U)

MAX_PARAGRAPH = 700  # longer paragraphs that mention cookies are content (e.g. a privacy policy)

# class/id values of banner containers used by CMPs and themes
BANNER_ATTR_RE = re.compile(
    r"cookie|consent|gdpr|rgpd|dsgvo|\bcmp|onetrust|optanon|cookiebot|didomi|usercentrics|iubenda|"
    r"cc[-_](?:window|banner|bar)|qc-cmp|truste|privacy[-_]?(?:banner|notice|popup|bar)|rodo|"
    r"cookie[-_]?law|eu[-_]cookie|termly|klaro|tarteaucitron",
    re.I,
)


@dataclass(slots=True)
class ConsentResult:
    text: str
    removed: list[str] = field(default_factory=list)
    banner_share: float = 0.0  # share of the input characters that were consent text


def _norm_button(line: str) -> str:
    return _PUNCT_RE.sub(" ", line.lower()).strip()


_BUTTON_SET = frozenset(_norm_button(b) for b in _BUTTONS)


def is_consent_text(text: str, max_len: int = MAX_PARAGRAPH) -> bool:
    """True for a paragraph that asks for cookie/consent (a cookie word and a consent word)."""
    t = text.strip()
    if not t or len(t) > max_len:
        return False
    return bool(_COOKIE_RE.search(t)) and bool(_CONTEXT_RE.search(t))


def is_button_line(line: str) -> bool:
    n = _norm_button(line)
    return bool(n) and len(n) <= 40 and n in _BUTTON_SET


def filter_consent(text: str) -> ConsentResult:
    """Remove consent paragraphs (and the button lines next to them) from extracted text.

    Paragraphs are lines; blank lines are kept as they were. ``banner_share`` is
    the removed characters over all non-blank characters of ``text``.
    """
    lines = text.split("\n")
    flags = [is_consent_text(line) for line in lines]
    # Button lines and very short "Cookie settings"-like lines go when within two lines of a banner.
    for i, line in enumerate(lines):
        if flags[i] or not line.strip():
            continue
        near = any(flags[j] for j in range(max(0, i - 2), min(len(lines), i + 3)) if j != i)
        if near and (is_button_line(line) or (len(line.strip()) <= 60 and _COOKIE_RE.search(line))):
            flags[i] = True
    total = sum(len(line.strip()) for line in lines)
    removed = [line for line, f in zip(lines, flags) if f]
    if not removed:
        return ConsentResult(text=text, removed=[], banner_share=0.0)
    kept = [line for line, f in zip(lines, flags) if not f]
    out = re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip("\n")
    share = sum(len(r.strip()) for r in removed) / total if total else 0.0
    return ConsentResult(text=out, removed=removed, banner_share=share)
