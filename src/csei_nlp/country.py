"""Which country an organisation is in, from its site address, its pages and their language.

Why this exists: the project ranks candidates with Central/Eastern Europe first,
and a cluster of social and ecological innovation is by definition anchored in a
territory (GECES 2021, §3, criterion 3), so every candidate needs a country.
Web pages rarely state it in a field; it has to be put together from weak clues.

Evidence, strongest first, is added up per country:

* the site's country-code TLD (``.pl`` -> PL; ``.eu``, ``.com``, ``.org`` ... say nothing);
* international phone prefixes (``+48`` -> PL) and postal codes written the way a
  country writes them (``18-400 Łomża``, ``674 01 Třebíč``, ``LT-29101``, ``600093 Bacău``);
* country names in the local languages and in English, and a compact gazetteer
  of capitals and regional cities (some with an inflection stem, ``Łomż*``);
* the page language as a weak prior, only where the language points to few
  countries (``sl`` -> SI; ``en``, ``de``, ``fr`` give little or nothing).

``confidence`` grows with the amount of evidence and shrinks when it is split
between countries; with nothing to go on, ``country`` is None.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .pipeline.site import host_of
from .taxonomy import LANGUAGE_COUNTRIES, is_cee

__all__ = ["CountryGuess", "infer_country", "is_cee", "country_from_tld"]

MIN_SCORE = 0.5  # below this the guess is None
MAX_CHARS_PER_TEXT = 100_000

W_TLD = 3.0
W_PHONE = 2.0
W_POSTAL = 2.0
W_NAME = 1.0
W_CITY = 1.0
W_LANG = 1.0
CAP_PER_KIND = 3.0  # one kind of evidence cannot outvote the others on its own


@dataclass(slots=True)
class CountryGuess:
    country: str | None
    confidence: float
    evidence: list[str] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)


_TLD: dict[str, str] = {
    "pl": "PL", "cz": "CZ", "sk": "SK", "hu": "HU", "ro": "RO", "bg": "BG", "hr": "HR", "si": "SI",
    "lt": "LT", "lv": "LV", "ee": "EE", "ua": "UA", "rs": "RS", "срб": "RS", "ba": "BA", "mk": "MK",
    "мкд": "MK", "al": "AL", "md": "MD", "me": "ME", "ge": "GE", "at": "AT", "be": "BE", "cy": "CY",
    "dk": "DK", "fi": "FI", "fr": "FR", "de": "DE", "gr": "GR", "ie": "IE", "it": "IT", "lu": "LU",
    "mt": "MT", "nl": "NL", "pt": "PT", "es": "ES", "se": "SE", "uk": "GB", "ch": "CH", "no": "NO",
    "укр": "UA", "бг": "BG",
}
# TLDs widely used outside their country count for less.
_TLD_WEIGHT: dict[str, float] = {"me": 0.5, "md": 1.5}

_PHONE: dict[str, str] = {
    "48": "PL", "420": "CZ", "421": "SK", "36": "HU", "40": "RO", "359": "BG", "385": "HR",
    "386": "SI", "370": "LT", "371": "LV", "372": "EE", "380": "UA", "381": "RS", "387": "BA",
    "389": "MK", "355": "AL", "373": "MD", "382": "ME", "383": "XK", "995": "GE", "49": "DE",
    "43": "AT", "33": "FR", "32": "BE", "31": "NL", "352": "LU", "39": "IT", "34": "ES",
    "351": "PT", "353": "IE", "45": "DK", "46": "SE", "358": "FI", "30": "GR", "357": "CY",
    "356": "MT", "44": "GB", "41": "CH", "47": "NO",
}
_PHONE_RE = re.compile(r"(?<![\w+])(?:\+|00)\s?(\d{2,3})[\s\-./()]*\d")

_UPPER = "A-ZÀ-ÖØ-ÞĀ-ſА-ЯЁЂ-ЏҐІЇЄ"
_WORD_AFTER = rf"[ \t]+(?:[{_UPPER}][\w\-]+)"

# (regex, country; None = the prefix decides).  Bare number formats are shared by
# several countries (Sweden and Greece also write "NNN NN"), so they count fully only
# when the page language fits (_POSTAL_LANGS).
_POSTAL: list[tuple[re.Pattern[str], str | None]] = [
    (re.compile(rf"(?<![\d\-])\d{{2}}-\d{{3}}(?=[ \t]+[{_UPPER}])"), "PL"),
    (re.compile(rf"(?<![\d\-])[1-7]\d{{2}} \d{{2}}(?={_WORD_AFTER})"), "CZ"),
    (re.compile(rf"(?<![\d\-])[089]\d{{2}} \d{{2}}(?={_WORD_AFTER})"), "SK"),
    (re.compile(rf"(?<![\d\-])\d{{4}}-\d{{3}}(?={_WORD_AFTER})"), "PT"),
    (re.compile(rf"(?<![\d\-])[1-9]\d{{5}}(?={_WORD_AFTER})"), "RO"),
    (re.compile(r"\bLT-\d{5}\b"), "LT"),
    (re.compile(r"\bLV-\d{4}\b"), "LV"),
    (re.compile(r"\bSI-\d{4}\b"), "SI"),
    (re.compile(r"\bHR-\d{5}\b"), "HR"),
    (re.compile(r"\bH-\d{4}\b"), "HU"),
    (re.compile(r"\bMD-\d{4}\b"), "MD"),
    (re.compile(r"\b(?:PL|CZ|SK|RO|BG|EE|RS|BA|MK|AL|ME|DE|D|AT|A|FR|F|BE|B|NL|IT|I|ES|PT|"
                r"DK|SE|FI|LU|L|GR|CY|MT|UA)-\d{4,6}\b"), None),  # prefix decides
]
_POSTAL_LANGS: dict[str, set[str]] = {
    "PL": {"pl"}, "CZ": {"cs", "sk"}, "SK": {"sk", "cs", "hu"}, "PT": {"pt"}, "RO": {"ro"},
}
_CODE_BEFORE_CITY = re.compile(r"(?<![\d\-])((?:[A-Z]{1,2}-)?\d{3,6}|\d{3} \d{2})[ \t]+$")
_PREFIX_COUNTRY = {"D": "DE", "A": "AT", "F": "FR", "B": "BE", "I": "IT", "L": "LU"}

# Country names, local languages first, plus the forms most often seen inflected.
_NAMES: dict[str, list[str]] = {
    "PL": ["Polska", "Polsce", "Polskę", "Rzeczpospolita Polska", "Poland", "Pologne", "Polen"],
    "CZ": ["Česká republika", "České republiky", "České republice", "Česko", "Česku", "Czech Republic", "Czechia"],
    "SK": ["Slovensko", "Slovenska", "Slovensku", "Slovenská republika", "Slovakia", "Slowakei"],
    "HU": ["Magyarország", "Magyarországon", "Magyarországi", "Hungary", "Ungarn"],
    "RO": ["România", "României", "Romania", "Roumanie", "Rumänien"],
    "BG": ["България", "Република България", "България", "Bulgaria", "Bulgarie"],
    "HR": ["Hrvatska", "Hrvatske", "Hrvatskoj", "Republika Hrvatska", "Croatia", "Kroatien"],
    "SI": ["Slovenija", "Slovenije", "Sloveniji", "Slovenia", "Slowenien"],
    "LT": ["Lietuva", "Lietuvos", "Lietuvoje", "Lithuania", "Litauen"],
    "LV": ["Latvija", "Latvijas", "Latvijā", "Latvia", "Lettland"],
    "EE": ["Eesti", "Eestis", "Estonia", "Estland"],
    "UA": ["Україна", "України", "Україні", "Україну", "Ukraine", "Ukraina"],
    "RS": ["Srbija", "Srbije", "Srbiji", "Србија", "Србије", "Србији", "Serbia", "Serbien"],
    "BA": ["Bosna i Hercegovina", "Bosne i Hercegovine", "Bosni i Hercegovini", "Босна и Херцеговина",
           "Bosnia and Herzegovina", "BiH"],
    "MK": ["Северна Македонија", "Македонија", "North Macedonia"],
    "AL": ["Shqipëri", "Shqipëria", "Shqipërisë", "Albania"],
    "MD": ["Republica Moldova", "Moldova", "Moldovei"],
    "ME": ["Crna Gora", "Crne Gore", "Crnoj Gori", "Црна Гора", "Montenegro"],
    "XK": ["Kosova", "Kosovës", "Kosovo", "Kosovu"],
    "GE": ["საქართველო", "Sakartvelo"],
    "DE": ["Deutschland", "Germany", "Allemagne"], "AT": ["Österreich", "Austria"],
    "FR": ["France", "Frankreich"], "BE": ["Belgique", "België", "Belgium", "Belgien"],
    "NL": ["Nederland", "Netherlands", "Niederlande"], "LU": ["Lëtzebuerg", "Luxemburg"],
    "IT": ["Italia", "Italy", "Italien"], "ES": ["España", "Spain", "Spanien", "Catalunya"],
    "PT": ["Portugal"], "IE": ["Ireland", "Éire"], "DK": ["Danmark", "Denmark"],
    "SE": ["Sverige", "Sweden"], "FI": ["Suomi", "Suomessa", "Finland"],
    "GR": ["Ελλάδα", "Ελλάδας", "Greece"], "CY": ["Κύπρος", "Cyprus", "Kıbrıs"], "MT": ["Malta"],
    "GB": ["United Kingdom", "Scotland", "England", "Wales"],
}

# Capitals and regional cities; "*" = any word ending (inflected forms).
_CITIES: dict[str, list[str]] = {
    "PL": ["Warszaw*", "Kraków", "Krakow*", "Łódź", "Łodzi", "Wrocław*", "Poznań", "Poznani*", "Gdańsk*",
           "Gdyni*", "Szczecin*", "Bydgoszcz*", "Lublin*", "Białystok*", "Białymstoku", "Katowic*",
           "Rzesz*ów", "Rzeszowie", "Łomż*", "Olsztyn*", "Kielc*", "Opolu", "Wałbrzych*", "Cieszyn*", "Toruń*"],
    "CZ": ["Praha", "Praze", "Prahy", "Brno", "Brně", "Ostrav*", "Plzeň", "Plzni", "Olomouc*", "Liberec",
           "Liberci", "Třebíč*", "Jihlav*", "Zlín*", "Pardubic*", "Hradec Králové", "České Budějovice",
           "Českých Budějovicích", "Ústí nad Labem"],
    "SK": ["Bratislav*", "Košic*", "Prešov*", "Žilin*", "Nitra", "Nitre", "Banská Bystrica",
           "Banskej Bystrici", "Trnav*", "Trenčín*"],
    "HU": ["Budapest*", "Debrecen*", "Szeged*", "Miskolc*", "Pécs*", "Győr*", "Nyíregyház*",
           "Kecskemét*", "Székesfehérvár*", "Szolnok*"],
    "RO": ["București", "Bucureşti", "Bucharest", "Cluj*", "Iași", "Iaşi", "Timișoara", "Timişoara",
           "Constanța", "Craiova", "Brașov", "Braşov", "Bacău", "Galați", "Oradea", "Sibiu", "Suceava", "Ploiești"],
    "BG": ["София", "Пловдив", "Варна", "Бургас", "Русе", "Стара Загора", "Плевен", "Велико Търново",
           "Plovdiv", "Varna", "Burgas"],
    "HR": ["Zagreb*", "Splitu", "Splita", "Rijek*", "Osijek*", "Dubrovnik*", "Zadar*", "Varaždin*",
           "Slavonski Brod", "Šibenik*", "Karlovac", "Karlovcu"],
    "SI": ["Ljubljan*", "Maribor*", "Celje", "Celju", "Kranj*", "Koper", "Kopru", "Novo mesto",
           "Novem mestu", "Velenj*", "Slovenske Konjice", "Slovenskih Konjicah", "Ptuj*", "Murska Sobota",
           "Nova Gorica"],
    "LT": ["Vilni*", "Kaun*", "Klaipėd*", "Šiauli*", "Panevėž*", "Pasval*", "Alytaus", "Marijampol*"],
    "LV": ["Rīga", "Rīgā", "Rīgas", "Daugavpil*", "Liepāj*", "Jelgav*", "Jūrmal*", "Ventspil*", "Rēzekn*",
           "Valmier*", "Jēkabpil*"],
    "EE": ["Tallinn*", "Tartu", "Tartus", "Pärnu", "Narva", "Viljandi", "Rakvere", "Kuressaare"],
    "UA": ["Київ*", "Києві", "Києва", "Kyiv", "Львів*", "Львові", "Lviv", "Харків*", "Kharkiv", "Одес*",
           "Odesa", "Дніпр*", "Запоріжж*", "Вінниц*", "Полтав*", "Івано-Франківськ*", "Чернівц*",
           "Тернопіл*", "Луцьк*", "Решетилівк*", "Житомир*", "Ужгород*", "Миколаїв*"],
    "RS": ["Beograd*", "Novi Sad", "Novom Sadu", "Novog Sada", "Niš", "Nišu", "Kragujevac", "Kragujevcu",
           "Subotic*", "Zrenjanin*", "Pančev*", "Čačk*", "Vojvodin*", "Београд*", "Нови Сад", "Новом Саду",
           "Ниш", "Крагујев*", "Војводин*"],
    "BA": ["Sarajev*", "Banja Luk*", "Tuzl*", "Zenic*", "Mostar*", "Bihać*", "Бања Лук*", "Сарајев*"],
    "MK": ["Скопје", "Битола", "Куманово", "Прилеп", "Тетово", "Охрид", "Skopje"],
    "AL": ["Tiranë", "Tirana", "Tiranës", "Durrës", "Durrësit", "Shkodër", "Shkodra", "Vlorë", "Elbasan*",
           "Korçë"],
    "MD": ["Chișinău", "Chişinău", "Chisinau", "Bălți"],
    "ME": ["Podgoric*", "Nikšić*", "Подгориц*", "Cetinj*"],
    "XK": ["Prishtinë", "Prishtina", "Priština", "Prizren*", "Pejë"],
    "GE": ["Tbilisi", "თბილისი", "Batumi", "Kutaisi"],
    "DE": ["Berlin", "Hamburg", "München", "Köln", "Frankfurt am Main", "Stuttgart", "Leipzig", "Dresden"],
    "AT": ["Wien", "Graz", "Linz", "Salzburg", "Innsbruck"],
    "FR": ["Paris", "Lyon", "Marseille", "Toulouse", "Bordeaux", "Lille", "Strasbourg", "Nantes", "Dijon"],
    "BE": ["Bruxelles", "Brussel", "Brussels", "Antwerpen", "Gent", "Liège", "Charleroi", "Namur"],
    "NL": ["Amsterdam", "Rotterdam", "Den Haag", "Utrecht", "Groningen", "Eindhoven"],
    "LU": ["Esch-sur-Alzette"],
    "IT": ["Milano", "Torino", "Napoli", "Bologna", "Firenze", "Genova", "Palermo", "Ferrara", "Modena"],
    "ES": ["Madrid", "Barcelona", "Sevilla", "Bilbao", "Zaragoza", "Murcia", "Pamplona", "Málaga"],
    "PT": ["Lisboa", "Coimbra", "Braga"],
    "IE": ["Dublin", "Galway", "Limerick", "Waterford"],
    "DK": ["København", "Copenhagen", "Aarhus", "Odense", "Aalborg"],
    "SE": ["Stockholm", "Göteborg", "Malmö", "Uppsala", "Örebro"],
    "FI": ["Helsinki", "Tampere", "Turku", "Oulu", "Rovaniemi", "Espoo"],
    "GR": ["Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Athens", "Thessaloniki"],
    "CY": ["Λευκωσία", "Nicosia", "Limassol"],
    "MT": ["Valletta", "Birkirkara"],
    "GB": ["London", "Edinburgh", "Glasgow", "Manchester"],
}


def _alternation(names: list[str]) -> re.Pattern[str]:
    parts = []
    for n in sorted(names, key=len, reverse=True):
        pat = re.escape(n).replace(r"\*", r"\w*")
        parts.append(pat)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)")


@lru_cache(maxsize=1)
def _gazetteer() -> tuple[dict[str, re.Pattern[str]], dict[str, re.Pattern[str]]]:
    return ({c: _alternation(v) for c, v in _NAMES.items()},
            {c: _alternation(v) for c, v in _CITIES.items()})


def _tld(site: str) -> str | None:
    """The top-level domain of a site or address (host parsed by ``pipeline.site``), IDN TLDs in Unicode."""
    host = host_of(site)
    if not host or "." not in host:
        return None
    tld = host.rsplit(".", 1)[1]
    if tld.startswith("xn--"):
        try:
            tld = tld.encode("ascii").decode("idna")
        except UnicodeError:
            return None
    return tld


def country_from_tld(site: str | None) -> str | None:
    """The country of a site's ccTLD ("klaster.lomza.pl" -> "PL"); None for generic TLDs."""
    tld = _tld(site) if site else None
    return _TLD.get(tld) if tld else None


class _Scores:
    def __init__(self) -> None:
        self.by_kind: dict[tuple[str, str], float] = {}
        self.evidence: list[str] = []
        self.seen: set[tuple[str, str, str]] = set()

    def add(self, country: str, kind: str, weight: float, what: str) -> None:
        key = (country, kind, what)
        if key in self.seen:
            return
        self.seen.add(key)
        cur = self.by_kind.get((country, kind), 0.0)
        if cur >= CAP_PER_KIND:
            return
        self.by_kind[(country, kind)] = min(CAP_PER_KIND, cur + weight)
        self.evidence.append(f"{kind} {what} -> {country}")

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (country, _), w in self.by_kind.items():
            out[country] = out.get(country, 0.0) + w
        return out


def _scan_text(text: str, s: _Scores, lang: str) -> None:
    text = text[:MAX_CHARS_PER_TEXT]
    for m in _PHONE_RE.finditer(text):
        digits = m.group(1)
        code = digits if digits in _PHONE else digits[:2] if digits[:2] in _PHONE else None
        if code:
            s.add(_PHONE[code], "phone", W_PHONE, f"+{code}")
    for pat, country in _POSTAL:
        for m in pat.finditer(text):
            c = country
            weight = W_POSTAL
            if c is None:
                prefix = m.group(0).split("-", 1)[0]
                c = _PREFIX_COUNTRY.get(prefix, prefix)
            elif lang and lang != "en" and lang not in _POSTAL_LANGS.get(c, {lang}):
                weight = W_POSTAL / 8
            s.add(c, "postal", weight, f"'{m.group(0)}'")
    names, cities = _gazetteer()
    for c, pat in names.items():
        for m in pat.finditer(text):
            s.add(c, "name", W_NAME, f"'{m.group(0)}'")
    for c, pat in cities.items():
        for m in pat.finditer(text):
            s.add(c, "city", W_CITY, f"'{m.group(0)}'")
            # "21000 Novi Sad", "1000 София": a postcode right before a known city
            before = _CODE_BEFORE_CITY.search(text, max(0, m.start() - 12), m.start())
            if before:
                s.add(c, "postal", W_POSTAL, f"'{before.group(1)}'")


def infer_country(site: str | None, texts: list[str], lang: str | None) -> CountryGuess:
    """Best country guess for an organisation from its site, page texts and language."""
    s = _Scores()
    if site:
        c = country_from_tld(site)
        if c:
            tld = _tld(site)
            s.add(c, "tld", _TLD_WEIGHT.get(tld, W_TLD), f".{tld}")
    code = (lang or "").strip().lower().replace("_", "-").split("-")[0]
    for t in texts or []:
        if isinstance(t, str) and t:
            _scan_text(t, s, code)
    if code and code != "en" and code in LANGUAGE_COUNTRIES:
        countries = LANGUAGE_COUNTRIES[code]
        for c in countries:
            s.add(c, "language", W_LANG / len(countries), code)
    totals = s.totals()
    if not totals:
        return CountryGuess(None, 0.0, [], {})
    best, top = max(totals.items(), key=lambda kv: (kv[1], kv[0]))
    if top < MIN_SCORE:
        return CountryGuess(None, 0.0, s.evidence, totals)
    conf = (1.0 - math.exp(-top / 2.5)) * top / sum(totals.values())
    evidence = [e for e in s.evidence if e.endswith(f"-> {best}")]
    return CountryGuess(best, round(conf, 3), evidence, totals)
