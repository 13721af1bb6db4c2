"""Language identification: accuracy on real sentences, "und", determinism, mix, priors."""
from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.errors import ConfigError
from csei_nlp.pipeline import language

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "language"
PER_LANG = 60

# Floors a few points below the accuracy measured with the default backend
# (lingua) on the first 60 sentences per language, shipped min_chars = 20 (short
# sentences count as misses).  Bosnian is mostly read as Croatian: the two are
# one language with two standards, and the detector cannot tell them apart well.
FLOORS = {
    "bg": 0.95, "bs": 0.45, "cs": 0.83, "da": 0.95, "de": 0.93, "el": 0.91, "en": 0.91,
    "es": 0.90, "et": 0.93, "fi": 0.91, "fr": 0.93, "ga": 0.88, "hr": 0.83, "hu": 0.91,
    "it": 0.95, "lt": 0.93, "lv": 0.91, "mk": 0.95, "nl": 0.95, "pl": 0.93, "pt": 0.93,
    "ro": 0.95, "ru": 0.78, "sk": 0.93, "sl": 0.93, "sq": 0.93, "sr": 0.91, "sv": 0.88,
    "uk": 0.95,
}  # fmt: skip


def _paragraphs() -> dict[str, list[str]]:
    return json.loads((FIX / "paragraphs.json").read_text("utf-8"))


def test_accuracy_per_language_on_real_sentences(shared_dir, cfg):
    tsv = shared_dir / "data" / "lingua-langid" / "langid_test.tsv"
    sample: dict[str, list[str]] = defaultdict(list)
    with tsv.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row["kind"] == "sentences" and len(sample[row["lang"]]) < PER_LANG:
                sample[row["lang"]].append(row["text"])
    assert set(sample) == set(FLOORS)
    measured = {
        lang: sum(language.detect(t, cfg).lang == lang for t in texts) / len(texts)
        for lang, texts in sorted(sample.items())
    }
    print(f"backend={cfg.language.backend} accuracy:",
          " ".join(f"{k}={v:.3f}" for k, v in measured.items()))
    below = {k: v for k, v in measured.items() if v < FLOORS[k]}
    assert not below, f"below the floor: {below}"


@pytest.mark.parametrize("backend", ["lingua", "langdetect"])
@pytest.mark.parametrize("text", ["", "   \n\t ", "12345 678 90 - 12.04.2023 / 17:30", "Hi there", "!!! ??? ..."])
def test_short_empty_or_letterless_text_is_und(backend, text):
    cfg = config.load(overrides={"language": {"backend": backend}})
    result = language.detect(text, cfg)
    assert result.lang == "und"
    assert result.reason == "too_short"
    assert result.scores == {} and result.mix == {}


def test_the_same_text_above_min_chars_is_identified(cfg):
    # The counterpart of the "und" cases: the cut-off is about letters, not bytes.
    result = language.detect("Wspieramy spółdzielnie socjalne w regionie.", cfg)
    assert result.lang == "pl" and result.reason == ""


def test_langdetect_is_seeded_and_repeatable():
    cfg = config.load(overrides={"language": {"backend": "langdetect", "seed": 0}})
    # langdetect samples n-grams at random: unseeded, the raw probabilities of
    # this text differ from call to call in the sixth decimal.
    text = "Ko je organizator projekta i kada je osnovan?\nHlavna ulica, mesto Nitra, region."
    raw = language._backend(cfg).candidates(text)
    result = language.detect(text, cfg)
    for _ in range(5):
        assert language._backend(cfg).candidates(text) == raw
        assert language.detect(text, cfg) == result
    language._BACKENDS.clear()  # a fresh detector, as in a new worker process
    assert language._backend(cfg).candidates(text) == raw
    assert language.detect(text, cfg) == result


def test_mixed_page_reports_its_mix():
    cfg = config.load()
    text = (FIX / "mixed_pl_en.txt").read_text("utf-8")
    result = language.detect(text, cfg)
    assert result.lang == "pl"
    assert set(result.mix) == {"pl", "en"}
    assert 0.3 < result.mix["en"] < result.mix["pl"] < 0.7
    assert abs(sum(result.mix.values()) - 1.0) < 1e-3
    assert list(result.scores)[:2] == ["pl", "en"]


def test_single_language_paragraphs(cfg):
    for lang, paras in _paragraphs().items():
        if lang == "sr":
            continue  # one paragraph is Latin-script Serbian: see the prior tests
        for p in paras:
            result = language.detect(p, cfg)
            assert result.lang == lang, (lang, p[:40], result)
            assert result.mix == {lang: 1.0}


def test_script_and_hint_prior_for_serbian(cfg):
    cyrillic, latin = _paragraphs()["sr"]
    # Cyrillic Serbian is recognised whatever the hint says.
    assert language.detect(cyrillic, cfg).lang == "sr"
    assert language.detect(cyrillic, cfg, hint="hr").lang == "sr"
    # Latin Serbian is read as Croatian/Bosnian without a hint ...
    plain = language.detect(latin, cfg)
    assert plain.lang in ("hr", "bs")
    # ... and as Serbian with a Serbian html lang or a .rs site.
    assert language.detect(latin, cfg, hint="sr-Latn-RS").lang == "sr"
    assert language.detect(latin, cfg, tld="zelenimost.rs").lang == "sr"
    # A hint from another group changes nothing; the candidates stay in scores.
    assert language.detect(latin, cfg, hint="de").lang == plain.lang
    assert language.detect(latin, cfg, hint="sr").scores == plain.scores


def test_hint_breaks_near_ties_only():
    near = [("sk", 0.55), ("cs", 0.43), ("pl", 0.02)]
    clear = [("sk", 0.90), ("cs", 0.08), ("pl", 0.02)]
    text = "Latin text"
    assert language._apply_priors(near, text, "cs", 0.2) == "cs"
    assert language._apply_priors(clear, text, "cs", 0.2) == "sk"
    assert language._apply_priors(near, text, "pl", 0.2) == "sk"  # other group: ignored
    assert language._apply_priors(near, text, None, 0.2) == "sk"
    cyr = [("ru", 0.5), ("bg", 0.4)]
    assert language._apply_priors(cyr, "Проблема личности", "bg", 0.2) == "bg"
    assert language._apply_priors(cyr, "Проблема личности", "uk", 0.2) == "ru"  # uk not a candidate


def test_hint_and_tld_normalisation():
    assert language.normalise_hint("sr-Latn-RS") == "sr"
    assert language.normalise_hint("CZ") == "cs"
    assert language.normalise_hint("en_GB") == "en"
    assert language.normalise_hint("") is None
    assert language.normalise_hint("x-klingon-123") is None
    assert language.tld_language("www.nadace.cz") == "cs"
    assert language.tld_language("UA") == "uk"
    assert language.tld_language("example.com") is None


def test_long_text_cost_is_bounded(cfg):
    paras = [p for ps in _paragraphs().values() for p in ps]
    text = "\n".join(paras * 40)  # ~1000 paragraphs
    blocks = language._paragraphs(text, cfg.language.paragraph_min_chars,
                                  cfg.language.max_paragraphs)
    assert len(blocks) <= cfg.language.max_paragraphs
    assert sum(n for _, _, n in blocks) == sum(ch.isalpha() for ch in text)
    assert language.detect(text, cfg).lang in {lang for lang in _paragraphs()}


def test_bad_backend_is_a_config_error():
    with pytest.raises(ConfigError):
        config.load(overrides={"language": {"backend": "fasttext"}})


def test_dev_pages_language(shared_dir, cfg):
    trafilatura = pytest.importorskip("trafilatura")
    root = shared_dir / "data" / "csei-dev-pages"
    labels = [json.loads(line) for name in ("labels-cee.jsonl", "labels-west.jsonl")
              for line in (root / name).read_text("utf-8").splitlines() if line.strip()]
    wrong, mixes = [], {}
    for rec in labels:
        text = trafilatura.extract((root / rec["file"]).read_bytes()) or ""
        result = language.detect(text, cfg, tld=rec["site"])
        mixes[rec["id"]] = result.mix
        if result.lang != rec["lang"]:
            wrong.append((rec["id"], result.lang))
    print(f"dev pages: {len(labels) - len(wrong)}/{len(labels)} correct; wrong: {wrong}")
    assert len(wrong) <= 2, wrong
    # Pages documented as carrying an English abstract.
    for page in ("hu-02", "bg-03"):
        assert mixes[page].get("en", 0) > 0.15, (page, mixes[page])


# --- Maltese: the letter rule -------------------------------------------------


def _written_passages(repo_dir: Path) -> list[dict]:
    rows = []
    for name in ("written-west.jsonl", "written-cee.jsonl"):
        with (repo_dir / "annotations" / "passages" / name).open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh if line.strip())
    return rows


def test_maltese_passages_are_maltese_and_no_other_language_is(repo_dir, cfg):
    rows = _written_passages(repo_dir)
    maltese = [r for r in rows if r["lang"] == "mt"]
    others = [r for r in rows if r["lang"] != "mt"]
    assert len(maltese) >= 10 and {r["lang"] for r in others} >= {"pl", "cs", "it", "sv", "hr"}
    for r in maltese:
        result = language.detect(r["text"], cfg)
        assert result.lang == "mt", (r["id"], result)
        assert result.mix == {"mt": 1.0} and 0.5 < result.scores["mt"] <= 1.0
    false_mt = [r["id"] for r in others if language.maltese_score(r["text"]) > 0.0]
    assert not false_mt, f"Maltese letter rule fired on: {false_mt}"


def test_maltese_rule_thresholds():
    # Polish uses ż but never ħ/ġ/ċ: a z-dot-heavy Polish sentence is not Maltese.
    assert language.maltese_score("Żółw żył w Żywcu, a żona Żanety żegnała go co rano.") == 0.0
    # One Maltese place name in an English paragraph stays under the share.
    assert language.maltese_score(
        "The cooperative runs a repair workshop in Ħamrun and sells refurbished bicycles "
        "to students, pensioners and families across the island."
    ) == 0.0
    # Two letters are needed even in a very short string.
    assert language.maltese_score("Ħal Far") == 0.0
    score = language.maltese_score("Il-kooperattiva għandha ħames membri u ġabra ta' ċittadini.")
    assert 0.625 <= score <= 1.0


@pytest.mark.parametrize("backend", ["lingua", "langdetect"])
def test_maltese_flows_through_segment_and_cues(backend):
    from csei_nlp.pipeline import cues, segment

    cfg = config.load(overrides={"language": {"backend": backend}})
    text = (
        "Il-Kooperattiva Ħadra hija għaqda ta' bdiewa żgħar minn Għawdex li jbigħu l-ħxejjex "
        "flimkien.\nIl-kunsill lokali u l-Università ta' Malta jaħdmu magħhom fuq proġett "
        "ta' kompostjar."
    )
    result = language.detect(text, cfg)
    assert result.lang == "mt"
    # mixed page: Maltese paragraph + English paragraph, each labelled on its own
    mixed = language.detect(
        text + "\nThe cooperative publishes its yearly report in English for its European "
        "partners and funders, with figures on jobs and waste.", cfg
    )
    assert set(mixed.mix) == {"mt", "en"} and mixed.lang == "mt"
    assert "mt" in cues.available_languages()
    assert "mt" in cues.resolve_languages(result.lang)
    assert cues.match(text, result.lang), "no Maltese cue found in a Maltese cooperative text"
    # spaCy has no Maltese: segmentation falls back to the blank multi-language pipeline.
    segs = segment.segment(text, result.lang, cfg)
    assert len(segs) >= 1 and "Ħadra" in segs[0].text


REGIONAL = {
    "ca": "La xarxa d'economia social del barri reuneix cooperatives, entitats veïnals i l'ajuntament per "
          "crear llocs de treball i compartir recursos entre les empreses del territori.",
    "eu": "Herriko ekonomia sozialeko sareak kooperatibak, elkarteak eta udala biltzen ditu, lanpostuak "
          "sortzeko eta baliabideak partekatzeko eskualdeko enpresekin batera.",
    "gl": "A rede de economía social da comarca xunta cooperativas, asociacións veciñais e o concello para "
          "crear traballo e compartir recursos coas empresas do territorio. Tamén colabora coa universidade.",
}


@pytest.mark.parametrize("lang", sorted(REGIONAL))
def test_catalan_basque_and_galician_are_recognised(cfg, lang):
    assert language.detect(REGIONAL[lang], cfg).lang == lang


def test_galician_word_rule_leaves_spanish_and_portuguese_alone(cfg):
    es = ("La red de economía social de la comarca reúne cooperativas, asociaciones vecinales y el ayuntamiento "
          "para crear trabajo y compartir recursos con las empresas del territorio. También colabora con la universidad.")
    pt = ("A rede de economia social da região junta cooperativas, associações de moradores e a câmara municipal "
          "para criar trabalho e partilhar recursos com as empresas do território. Também colabora com a universidade.")
    assert language.detect(es, cfg).lang == "es"
    assert language.detect(pt, cfg).lang == "pt"
    assert language.galician_score(es) == 0.0 and language.galician_score(pt) == 0.0


def test_galician_energy_community_page_is_galician(cfg):
    # Galician spelt with x and -cións, without the function words of the first list: such pages
    # (energy communities, county news) came out as Spanish before GL_WORDS and GL_SUFFIXES grew.
    text = ("A comunidade enerxética da parroquia reúne persoas, o concello e dúas cooperativas agrarias. "
            "O proxecto conxunto instala paneis no tellado da escola e reparte a enerxía entre os veciños. "
            "As axudas e as subvencións chegaron en xaneiro, e as primeiras instalacións funcionan desde xuño.")
    assert language.detect(text, cfg).lang == "gl"
    # the same page in Spanish stays Spanish
    es = ("La comunidad energética de la parroquia reúne personas, el ayuntamiento y dos cooperativas agrarias. "
          "El proyecto conjunto instala paneles en el tejado de la escuela y reparte la energía entre los vecinos. "
          "Las ayudas y las subvenciones llegaron en enero, y las primeras instalaciones funcionan desde junio.")
    assert language.detect(es, cfg).lang == "es" and language.galician_score(es) == 0.0


def test_galician_rule_relabels_no_spanish_or_portuguese_sentence(cfg, shared_dir):
    # 500 Spanish and 500 Portuguese sentences of the shared language-ID test set: none becomes Galician.
    path = shared_dir / "data" / "lingua-langid" / "langid_test.tsv"
    if not path.is_file():
        pytest.skip(f"{path} is not here (a clone without ../shared)")
    rows = [line.split("\t", 2) for line in path.read_text("utf-8").splitlines()[1:] if line.count("\t") >= 2]
    sents = [t for lang, _kind, t in rows if lang in ("es", "pt")]
    assert len(sents) >= 800
    assert [t for t in sents if language.galician_score(t) > 0.0] == []
