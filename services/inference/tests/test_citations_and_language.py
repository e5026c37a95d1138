"""Citation markers and the question-language guess."""

from __future__ import annotations

import pytest

from steward_inference import detect_language, parse_citations


def test_citations_in_order_of_first_use_without_repeats() -> None:
    markers = parse_citations("Renew by mail [2]. Fees apply [1][2]. See [1, 3].", 3)

    assert markers.valid == (2, 1, 3)
    assert markers.unknown == ()


def test_citations_outside_the_passages_are_reported_apart() -> None:
    markers = parse_citations("It is free [4] and quick [0] [1].", 2)

    assert markers.valid == (1,)
    assert markers.unknown == (4, 0)


def test_text_without_markers_has_no_citations() -> None:
    markers = parse_citations("Yes, you can [see above] (1).", 3)

    assert markers.valid == ()
    assert markers.unknown == ()


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How do I renew my passport?", "en"),
        ("¿Cómo renuevo mi pasaporte?", "es"),
        ("Quien tiene que presentar impuestos en el estado", "es"),
        ("Where is my tax refund?", "en"),
        ("Necesito una licencia para mi negocio", "es"),
    ],
)
def test_detect_language(question: str, expected: str) -> None:
    assert detect_language(question) == expected


def test_detect_language_falls_back_to_the_default() -> None:
    assert detect_language("NPDES 2024", default="es") == "es"
