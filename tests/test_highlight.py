from csei_nlp.report.highlight import highlight


def test_spans_marked_and_text_escaped():
    text = "Klaster <script>alert(1)</script> spółdzielnia socjalna w Łomży"
    start = text.index("spółdzielnia")
    out = str(highlight(text, [{"start": start, "end": start + len("spółdzielnia socjalna"), "label": "social_cooperative",
                                "family": "legal_form"}]))
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert ('<mark class="g-legal_form" title="legal form: social cooperative">spółdzielnia socjalna</mark>'
            '<small class="span-label">social cooperative</small>') in out


def test_overlapping_spans_merge_and_out_of_range_is_clamped():
    text = "social cooperative network"
    out = str(highlight(text, [{"start": 0, "end": 18, "label": "a"}, {"start": 7, "end": 26, "label": "b"},
                               {"start": 20, "end": 999, "label": "c"}]))
    assert out.count("<mark") == 1
    assert out.endswith('<small class="span-label">a, b, c</small>')


def test_attribute_injection_in_label_is_escaped():
    out = str(highlight("abc", [{"start": 0, "end": 1, "label": '"><img src=x onerror=alert(1)>'}]))
    assert "<img" not in out


def test_only_the_first_matches_per_cue_are_evidence_and_the_rest_stay_faint():
    text = " ".join(["gmina"] * 6 + ["spółdzielnia"])
    spans, pos = [], 0
    for w in text.split():
        label, group = ("municipal", "territorial") if w == "gmina" else ("cooperative", "legal_form")
        spans.append({"start": pos, "end": pos + len(w), "label": label, "family": group})
        pos += len(w) + 1
    out = str(highlight(text, spans, per_label=3))
    assert out.count("<mark") == 7 and out.count('class="g-territorial extra"') == 3
    assert out.count('<small class="span-label">municipal</small>') == 3
    assert out.count('<small class="span-label">cooperative</small>') == 1


def test_evidence_for_a_label_is_only_the_cues_that_support_it():
    from csei_nlp.pipeline.cues.groups import supports

    place = {"family": "territorial", "label": "municipal"}
    network = {"family": "self_designation", "label": "network"}
    cic = {"family": "legal_form", "label": "social_enterprise"}
    assert supports("criteria", "geographic_proximity", place)
    assert not supports("criteria", "geographic_proximity", network)
    assert not supports("criteria", "geographic_proximity", cic)
    assert supports("helix", "social_economy", cic)  # a legal form names its helix
    assert supports("helix", "business", {"family": "helix", "label": "business"})
    assert not supports("helix", "business", {"family": "helix", "label": "public_authority"})
