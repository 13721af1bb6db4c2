"""A reproducible synthetic crawl for the benchmarks.

    python bench/synth.py --pages 10000 --out bench/data/synth-10k [--seed 0] [--format warc|html]

Writes ``--pages`` HTML pages in 20 EU languages, about 5% of them pages of a
cooperating group of local organisations (the kind of page the pipeline looks
for), the rest ordinary web content: shop pages, weather, sport, timetables,
recipes.  Pages go into gzip WARC shards of 1,000 records (``--format warc``,
the default, as a crawler would deliver them) or one file each
(``--format html``), under ``OUT/crawl/``; ``OUT/truth.jsonl`` lists every page's url, language and
whether it is a candidate, so that benchmarks can measure cascade recall.

Everything derives from ``--seed``: the same arguments give byte-identical
output.  The sentences below were written for this generator; they are
deliberately plain, so that the benchmark measures the pipeline's throughput,
not the quality of its language models.
"""
from __future__ import annotations

import argparse
import io
import json
import random
from pathlib import Path

# Per language: towns, candidate sentences (a group of organisations that
# cooperate in one place) and ordinary sentences.  {town} and {n} are filled in.
LANGS: dict[str, dict[str, list[str]]] = {
    "en": {"town": ["Millbrook", "Ashford", "Kelham"],
           "cand": ["The {town} social economy cluster brings together {n} cooperatives, the town council and the local college.",
                    "Our members run a community repair café and a food cooperative, and every member has one vote at the general assembly.",
                    "Social enterprises, small businesses and the university work together on circular economy projects in the region."],
           "other": ["The new kettle boils a litre of water in under three minutes.",
                     "Rain is expected on Tuesday, with temperatures around {n} degrees.",
                     "The home team won the match after a late goal in extra time.",
                     "Bake the bread for {n} minutes until the crust is golden brown.",
                     "The evening train leaves platform two at a quarter past seven."]},
    "de": {"town": ["Lindenau", "Bergheim", "Talbach"],
           "cand": ["Das Netzwerk für Sozialwirtschaft in {town} verbindet {n} Genossenschaften, die Gemeinde und die Hochschule.",
                    "Unsere Mitglieder betreiben gemeinsam ein Reparaturcafé, und die Mitgliederversammlung entscheidet über alle Projekte.",
                    "Sozialunternehmen, lokale Firmen und die Stadtverwaltung arbeiten in der Region an Projekten der Kreislaufwirtschaft."],
           "other": ["Der neue Wasserkocher ist in drei Farben erhältlich.",
                     "Am Dienstag gibt es Regen bei etwa {n} Grad.",
                     "Die Heimmannschaft gewann das Spiel in der Nachspielzeit.",
                     "Den Teig {n} Minuten ruhen lassen und dann backen.",
                     "Der Abendzug fährt um sieben Uhr von Gleis zwei ab."]},
    "fr": {"town": ["Valmont", "Saint-Arnoult", "Brissac"],
           "cand": ["Le pôle territorial de coopération économique de {town} réunit {n} coopératives, la commune et le lycée professionnel.",
                    "Nos membres gèrent ensemble une ressourcerie et une épicerie solidaire, et chaque membre dispose d'une voix en assemblée générale.",
                    "Les entreprises sociales, les associations et la mairie coopèrent sur des projets d'économie circulaire dans la région."],
           "other": ["La nouvelle bouilloire existe en trois couleurs.",
                     "De la pluie est prévue mardi avec environ {n} degrés.",
                     "L'équipe locale a gagné le match dans les arrêts de jeu.",
                     "Laisser reposer la pâte {n} minutes avant la cuisson.",
                     "Le train du soir part du quai deux à sept heures."]},
    "es": {"town": ["Villarreal del Monte", "Santa Olalla", "Robledo"],
           "cand": ["La red de economía social de {town} reúne a {n} cooperativas, el ayuntamiento y la universidad.",
                    "Nuestros socios gestionan juntos un taller de reparación y una cooperativa de consumo, y cada socio tiene un voto en la asamblea.",
                    "Empresas sociales, pequeñas empresas y asociaciones cooperan en proyectos de economía circular en la comarca."],
           "other": ["El nuevo hervidor está disponible en tres colores.",
                     "Se espera lluvia el martes con unos {n} grados.",
                     "El equipo local ganó el partido en el último minuto.",
                     "Dejar reposar la masa {n} minutos antes de hornear.",
                     "El tren de la tarde sale del andén dos a las siete."]},
    "it": {"town": ["Montefalco", "Borgoricco", "Valdora"],
           "cand": ["La rete dell'economia sociale di {town} riunisce {n} cooperative sociali, il comune e l'università.",
                    "I nostri soci gestiscono insieme un laboratorio di riparazione, e ogni socio ha un voto in assemblea.",
                    "Imprese sociali, piccole imprese e associazioni collaborano a progetti di economia circolare nel territorio."],
           "other": ["Il nuovo bollitore è disponibile in tre colori.",
                     "Martedì è prevista pioggia con circa {n} gradi.",
                     "La squadra di casa ha vinto la partita al novantesimo minuto.",
                     "Lasciare riposare l'impasto {n} minuti prima di infornare.",
                     "Il treno della sera parte dal binario due alle sette."]},
    "pt": {"town": ["Vila Nova", "Santarém do Campo", "Alvorada"],
           "cand": ["A rede de economia social de {town} reúne {n} cooperativas, a câmara municipal e a universidade.",
                    "Os nossos membros gerem em conjunto uma oficina de reparação, e cada membro tem um voto na assembleia geral.",
                    "Empresas sociais, pequenas empresas e associações cooperam em projetos de economia circular na região."],
           "other": ["A nova chaleira está disponível em três cores.",
                     "Prevê-se chuva na terça-feira com cerca de {n} graus.",
                     "A equipa da casa venceu o jogo nos descontos.",
                     "Deixe a massa repousar {n} minutos antes de cozer.",
                     "O comboio da noite parte da linha dois às sete horas."]},
    "nl": {"town": ["Veldhoven-Noord", "Ruiterveen", "Dijkburg"],
           "cand": ["Het netwerk voor sociale economie in {town} verbindt {n} coöperaties, de gemeente en de hogeschool.",
                    "Onze leden runnen samen een repaircafé en een voedselcoöperatie, en elk lid heeft één stem in de ledenvergadering.",
                    "Sociale ondernemingen, lokale bedrijven en verenigingen werken in de regio samen aan circulaire projecten."],
           "other": ["De nieuwe waterkoker is verkrijgbaar in drie kleuren.",
                     "Dinsdag wordt regen verwacht bij ongeveer {n} graden.",
                     "De thuisploeg won de wedstrijd in de blessuretijd.",
                     "Laat het deeg {n} minuten rusten voor het bakken.",
                     "De avondtrein vertrekt om zeven uur van spoor twee."]},
    "pl": {"town": ["Zielonka", "Brzozów Mały", "Dąbrowa Leśna"],
           "cand": ["Klaster ekonomii społecznej w miejscowości {town} zrzesza {n} spółdzielni socjalnych, urząd gminy i szkołę zawodową.",
                    "Nasi członkowie wspólnie prowadzą pracownię naprawczą, a walne zgromadzenie członków decyduje o projektach.",
                    "Przedsiębiorstwa społeczne, lokalne firmy i stowarzyszenia współpracują w regionie przy projektach gospodarki obiegu zamkniętego."],
           "other": ["Nowy czajnik jest dostępny w trzech kolorach.",
                     "We wtorek spodziewany jest deszcz i około {n} stopni.",
                     "Gospodarze wygrali mecz w doliczonym czasie gry.",
                     "Ciasto odstawić na {n} minut, a potem piec.",
                     "Wieczorny pociąg odjeżdża z peronu drugiego o siódmej."]},
    "cs": {"town": ["Lipová", "Horní Ves", "Dubany"],
           "cand": ["Síť sociální ekonomiky v obci {town} sdružuje {n} sociálních družstev, obecní úřad a střední školu.",
                    "Naši členové společně provozují opravnu a o projektech rozhoduje členská schůze.",
                    "Sociální podniky, místní firmy a spolky spolupracují v regionu na projektech oběhového hospodářství."],
           "other": ["Nová rychlovarná konvice je k dostání ve třech barvách.",
                     "V úterý se očekává déšť a teplota kolem {n} stupňů.",
                     "Domácí tým vyhrál zápas v nastaveném čase.",
                     "Těsto nechte {n} minut odpočinout a pak pečte.",
                     "Večerní vlak odjíždí ze druhé koleje v sedm hodin."]},
    "sk": {"town": ["Lipovce", "Horná Lehota", "Dubník"],
           "cand": ["Klaster sociálnej ekonomiky v obci {town} združuje {n} sociálnych podnikov, obecný úrad a strednú školu.",
                    "Naši členovia spoločne prevádzkujú dielňu na opravy a o projektoch rozhoduje členská schôdza.",
                    "Sociálne podniky, miestne firmy a združenia spolupracujú v regióne na projektoch obehového hospodárstva."],
           "other": ["Nová rýchlovarná kanvica je dostupná v troch farbách.",
                     "V utorok sa očakáva dážď a teplota okolo {n} stupňov.",
                     "Domáci tím vyhral zápas v nadstavenom čase.",
                     "Cesto nechajte {n} minút odpočívať a potom pečte.",
                     "Večerný vlak odchádza z druhej koľaje o siedmej."]},
    "hu": {"town": ["Kisnyárád", "Felsőtelek", "Hárshegy"],
           "cand": ["A {town} szociális gazdasági klaszter {n} szövetkezetet, az önkormányzatot és a szakiskolát fogja össze.",
                    "Tagjaink közösen működtetnek egy javítóműhelyt, és a közgyűlésen minden tagnak egy szavazata van.",
                    "Szociális vállalkozások, helyi cégek és egyesületek együttműködnek a térségben a körforgásos gazdaság projektjein."],
           "other": ["Az új vízforraló három színben kapható.",
                     "Kedden eső várható, körülbelül {n} fokkal.",
                     "A hazai csapat a hosszabbításban nyerte meg a mérkőzést.",
                     "A tésztát {n} percig pihentesse, majd süsse meg.",
                     "Az esti vonat hét órakor indul a második vágányról."]},
    "ro": {"town": ["Valea Mare", "Dealu Frumos", "Sălcuța"],
           "cand": ["Clusterul de economie socială din {town} reunește {n} cooperative, primăria și liceul tehnologic.",
                    "Membrii noștri administrează împreună un atelier de reparații, iar adunarea generală a membrilor decide proiectele.",
                    "Întreprinderile sociale, firmele locale și asociațiile cooperează în regiune la proiecte de economie circulară."],
           "other": ["Noul fierbător este disponibil în trei culori.",
                     "Marți se așteaptă ploaie și aproximativ {n} grade.",
                     "Echipa gazdă a câștigat meciul în prelungiri.",
                     "Lăsați aluatul să se odihnească {n} minute înainte de coacere.",
                     "Trenul de seară pleacă de la linia doi la ora șapte."]},
    "bg": {"town": ["Бяла река", "Горно поле", "Дъбово"],
           "cand": ["Клъстерът за социална икономика в {town} обединява {n} кооперации, общината и професионалната гимназия.",
                    "Нашите членове заедно управляват работилница за ремонт, а общото събрание на членовете решава за проектите.",
                    "Социални предприятия, местни фирми и сдружения си сътрудничат в региона по проекти за кръгова икономика."],
           "other": ["Новата електрическа кана се предлага в три цвята.",
                     "Във вторник се очаква дъжд и около {n} градуса.",
                     "Домакините спечелиха мача в добавеното време.",
                     "Оставете тестото да почине {n} минути и го изпечете.",
                     "Вечерният влак тръгва от втори коловоз в седем часа."]},
    "hr": {"town": ["Lipovac", "Gornja Draga", "Dubrava Mala"],
           "cand": ["Klaster socijalne ekonomije u mjestu {town} okuplja {n} zadruga, općinu i strukovnu školu.",
                    "Naši članovi zajedno vode radionicu za popravke, a skupština članova odlučuje o projektima.",
                    "Socijalna poduzeća, lokalne tvrtke i udruge surađuju u regiji na projektima kružnog gospodarstva."],
           "other": ["Novo kuhalo za vodu dostupno je u tri boje.",
                     "U utorak se očekuje kiša i oko {n} stupnjeva.",
                     "Domaća momčad pobijedila je u sudačkoj nadoknadi.",
                     "Tijesto ostavite {n} minuta da odmori pa ga pecite.",
                     "Večernji vlak polazi s drugog kolosijeka u sedam sati."]},
    "sl": {"town": ["Lipovci", "Gornja Vas", "Dobrava"],
           "cand": ["Grozd socialne ekonomije v kraju {town} povezuje {n} zadrug, občino in poklicno šolo.",
                    "Naši člani skupaj vodijo popravljalnico, o projektih pa odloča skupščina članov.",
                    "Socialna podjetja, lokalna podjetja in društva sodelujejo v regiji pri projektih krožnega gospodarstva."],
           "other": ["Novi grelnik vode je na voljo v treh barvah.",
                     "V torek pričakujemo dež in okoli {n} stopinj.",
                     "Domača ekipa je zmagala v sodniškem podaljšku.",
                     "Testo pustite počivati {n} minut, nato ga specite.",
                     "Večerni vlak odpelje z drugega tira ob sedmih."]},
    "lt": {"town": ["Liepynė", "Aukštadvaris", "Ąžuolija"],
           "cand": ["{town} socialinės ekonomikos klasteris vienija {n} kooperatyvų, savivaldybę ir profesinę mokyklą.",
                    "Mūsų nariai kartu valdo remonto dirbtuves, o visuotinis narių susirinkimas sprendžia dėl projektų.",
                    "Socialinės įmonės, vietos įmonės ir asociacijos regione bendradarbiauja žiedinės ekonomikos projektuose."],
           "other": ["Naujas virdulys parduodamas trijų spalvų.",
                     "Antradienį laukiama lietaus ir apie {n} laipsnių.",
                     "Šeimininkai laimėjo rungtynes per pridėtą laiką.",
                     "Tešlą palikite pailsėti {n} minučių ir kepkite.",
                     "Vakarinis traukinys išvyksta nuo antrojo kelio septintą valandą."]},
    "lv": {"town": ["Liepupe", "Augšciems", "Ozolmuiža"],
           "cand": ["{town} sociālās ekonomikas klasteris apvieno {n} kooperatīvus, pašvaldību un profesionālo skolu.",
                    "Mūsu biedri kopā vada remontdarbnīcu, un biedru kopsapulce lemj par projektiem.",
                    "Sociālie uzņēmumi, vietējie uzņēmumi un biedrības reģionā sadarbojas aprites ekonomikas projektos."],
           "other": ["Jaunā tējkanna ir pieejama trīs krāsās.",
                     "Otrdien gaidāms lietus un ap {n} grādiem.",
                     "Mājinieki uzvarēja spēlē papildlaikā.",
                     "Ļaujiet mīklai atpūsties {n} minūtes un tad cepiet.",
                     "Vakara vilciens atiet no otrā ceļa septiņos."]},
    "et": {"town": ["Kaasiku", "Ülemõisa", "Tammiste"],
           "cand": ["{town} sotsiaalmajanduse klaster ühendab {n} ühistut, vallavalitsust ja kutsekooli.",
                    "Meie liikmed peavad koos parandustöökoda ning liikmete üldkoosolek otsustab projektide üle.",
                    "Sotsiaalsed ettevõtted, kohalikud ettevõtted ja seltsid teevad piirkonnas koostööd ringmajanduse projektides."],
           "other": ["Uus veekeetja on saadaval kolmes värvis.",
                     "Teisipäeval on oodata vihma ja umbes {n} kraadi.",
                     "Kodumeeskond võitis mängu lisaajal.",
                     "Laske taignal {n} minutit puhata ja küpsetage.",
                     "Õhtune rong väljub teiselt teelt kell seitse."]},
    "el": {"town": ["Καλαμάκι", "Άνω Πεδινά", "Δρυμός"],
           "cand": ["Το δίκτυο κοινωνικής οικονομίας στο {town} ενώνει {n} συνεταιρισμούς, τον δήμο και το επαγγελματικό λύκειο.",
                    "Τα μέλη μας λειτουργούν μαζί ένα εργαστήρι επισκευών και η γενική συνέλευση των μελών αποφασίζει για τα έργα.",
                    "Κοινωνικές επιχειρήσεις, τοπικές εταιρείες και σύλλογοι συνεργάζονται στην περιφέρεια σε έργα κυκλικής οικονομίας."],
           "other": ["Ο νέος βραστήρας διατίθεται σε τρία χρώματα.",
                     "Την Τρίτη αναμένεται βροχή και περίπου {n} βαθμοί.",
                     "Η γηπεδούχος ομάδα κέρδισε τον αγώνα στις καθυστερήσεις.",
                     "Αφήστε τη ζύμη να ξεκουραστεί {n} λεπτά και ψήστε.",
                     "Το βραδινό τρένο φεύγει από τη δεύτερη γραμμή στις επτά."]},
    "sv": {"town": ["Björkvik", "Övre Ås", "Ekeby"],
           "cand": ["Nätverket för social ekonomi i {town} samlar {n} kooperativ, kommunen och yrkeshögskolan.",
                    "Våra medlemmar driver tillsammans en reparationsverkstad, och föreningsstämman beslutar om projekten.",
                    "Sociala företag, lokala företag och föreningar samarbetar i regionen kring projekt för cirkulär ekonomi."],
           "other": ["Den nya vattenkokaren finns i tre färger.",
                     "På tisdag väntas regn och omkring {n} grader.",
                     "Hemmalaget vann matchen på tilläggstid.",
                     "Låt degen vila i {n} minuter och grädda sedan.",
                     "Kvällståget avgår från spår två klockan sju."]},
}

TITLES = {"cand": "{town}", "other": "{town} - {n}"}


def _paragraph(rng: random.Random, pool: list[str], towns: list[str], k: int) -> str:
    return " ".join(rng.choice(pool).format(town=rng.choice(towns), n=rng.randint(2, 40)) for _ in range(k))


def make_page(rng: random.Random, lang: str, candidate: bool, index: int) -> tuple[str, str]:
    """One page: (url, html). Candidates mix group sentences with ordinary ones."""
    t = LANGS[lang]
    town = rng.choice(t["town"])
    n_par = rng.randint(3, 7)
    paras = []
    for i in range(n_par):
        pool = t["cand"] if candidate and (i < 2 or rng.random() < 0.5) else t["other"]
        paras.append(_paragraph(rng, pool, t["town"], rng.randint(2, 4)))
    body = "\n".join(f"<p>{p}</p>" for p in paras)
    site = f"site{index // 5:06d}"  # five pages per site
    url = f"https://{site}.example.{lang}/page-{index:07d}.html"
    html = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>{town} {index}</title></head>'
            f'<body><nav><a href="/">/</a> <a href="/a">a</a></nav><main><h1>{town}</h1>\n{body}\n</main>'
            f"<footer>{site}.example.{lang}</footer></body></html>")
    return url, html


def generate(n_pages: int, out: Path, seed: int = 0, fmt: str = "warc", shard: int = 1000,
             candidate_share: float = 0.05) -> dict[str, int]:
    """Write the crawl under ``out/crawl`` and ``out/truth.jsonl``; return counts (pages, candidates, shards)."""
    crawl = out / "crawl"
    crawl.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    langs = sorted(LANGS)
    truth = []
    writer = buf = None
    n_shards = n_cand = 0
    for i in range(n_pages):
        lang = langs[rng.randrange(len(langs))]
        cand = rng.random() < candidate_share
        n_cand += cand
        url, html = make_page(rng, lang, cand, i)
        truth.append({"url": url, "lang": lang, "candidate": cand})
        if fmt == "html":
            d = crawl / f"{i // shard:04d}"
            d.mkdir(parents=True, exist_ok=True)
            (d / f"p{i:07d}.html").write_text(html, "utf-8")
            continue
        if writer is None:
            from warcio.warcwriter import WARCWriter

            buf = io.BytesIO()
            writer = WARCWriter(buf, gzip=True)
        _write_record(writer, url, html.encode("utf-8"))
        if (i + 1) % shard == 0:
            _close_shard(buf, crawl, n_shards)
            n_shards, writer = n_shards + 1, None
    if writer is not None:
        _close_shard(buf, crawl, n_shards)
        n_shards += 1
    with open(out / "truth.jsonl", "w", encoding="utf-8") as fh:
        for row in truth:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return {"pages": n_pages, "candidates": n_cand, "shards": n_shards}


def _write_record(writer, url: str, body: bytes) -> None:
    from warcio.statusandheaders import StatusAndHeaders

    headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
    # fixed WARC-Date and record id keep shards byte-identical across runs
    rec = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                                    warc_headers_dict={"WARC-Date": "2026-01-01T00:00:00Z"})
    rec.rec_headers.replace_header("WARC-Record-ID", f"<urn:synth:{url}>")
    writer.write_record(rec)


def _close_shard(buf: io.BytesIO, out: Path, k: int) -> None:
    (out / f"shard-{k:05d}.warc.gz").write_bytes(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=["warc", "html"], default="warc")
    ap.add_argument("--shard", type=int, default=1000, help="pages per WARC shard / HTML folder")
    args = ap.parse_args()
    print(json.dumps(generate(args.pages, args.out, args.seed, args.format, args.shard)))


if __name__ == "__main__":
    main()
