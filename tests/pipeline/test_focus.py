"""Page focus features: does a page keep naming one thing, or many?"""
from __future__ import annotations

import numpy as np
import pytest

from csei_nlp.pipeline.focus import FOCUS_FEATURES, focus_features

TOP_SHARE = FOCUS_FEATURES.index("focus_top_name_share")
VARIETY = FOCUS_FEATURES.index("focus_name_variety")

# Written for this test: one page about one named cluster, one round-up naming many bodies.
ONE_CLUSTER = [
    "Klaster Dobre Sąsiedztwo łączy spółdzielnie socjalne, gminę Wadowice i lokalne firmy.",
    "W 2023 roku Klaster Dobre Sąsiedztwo otworzył wspólną pracownię; członkowie klastra dzielą sprzęt.",
    "Dołącz do nas: Klaster Dobre Sąsiedztwo zaprasza szkoły i przedsiębiorców z Wadowic.",
]
ROUND_UP = [
    "Ministerstwo Rozwoju, Fundacja Batorego, Caritas Polska i Uniwersytet Warszawski omawiały ekonomię społeczną.",
    "Głos zabrali przedstawiciele Krakowa, Gdańska, Lublina, Poznania oraz Rzeszowa i Olsztyna.",
    "Raport przygotowały Instytut Badań Strukturalnych, Komisja Europejska i Bank Gospodarstwa Krajowego.",
]


def test_a_page_about_one_named_cluster_is_more_focused_than_a_round_up():
    one, many = focus_features(ONE_CLUSTER), focus_features(ROUND_UP)
    assert one.shape == many.shape == (len(FOCUS_FEATURES),) and one.dtype == np.float32
    assert one[TOP_SHARE] > 2 * many[TOP_SHARE]
    assert one[VARIETY] < many[VARIETY]


@pytest.mark.parametrize("texts", [
    ["Η Ενεργειακή Κοινότητα Σητείας και ο Δήμος Σητείας συνεργάζονται. Η Κοινότητα Σητείας μεγαλώνει."],
    ["Кластер Добрий Сусід об'єднує кооперативи громади. Кластер Добрий Сусід працює з громадою."],
])
def test_greek_and_cyrillic_names_count_as_names(texts):
    f = focus_features(texts)
    assert f[FOCUS_FEATURES.index("focus_top_name")] >= np.log1p(2)


def test_an_empty_page_has_finite_zero_like_features():
    f = focus_features([])
    assert np.isfinite(f).all() and f[FOCUS_FEATURES.index("focus_words")] == 0
