from csei_nlp.report.highlight import highlight


def test_spans_marked_and_text_escaped():
    text = "Klaster <script>alert(1)</script> spółdzielnia socjalna w Łomży"
    start = text.index("spółdzielnia")
    out = str(highlight(text, [{"start": start, "end": start + len("spółdzielnia socjalna"), "label": "social_cooperative"}]))
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert '<mark title="social_cooperative">spółdzielnia socjalna</mark>' in out


def test_overlapping_spans_merge_and_out_of_range_is_clamped():
    text = "social cooperative network"
    out = str(highlight(text, [{"start": 0, "end": 18, "label": "a"}, {"start": 7, "end": 26, "label": "b"},
                               {"start": 20, "end": 999, "label": "c"}]))
    assert out.count("<mark") == 1
    assert out.endswith("</mark>")


def test_attribute_injection_in_label_is_escaped():
    out = str(highlight("abc", [{"start": 0, "end": 1, "label": '"><img src=x onerror=alert(1)>'}]))
    assert "<img" not in out
