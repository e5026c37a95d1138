"""Citations attributed to the passages an answer's sentences restate."""

from __future__ import annotations

from steward_inference._attribution import attribute_sentences

PASSAGES = [
    "Use the Where's My Refund tool or the IRS2Go mobile app to check your refund status.",
    "Most refunds are issued in less than 21 calendar days after the return is received.",
]


def test_each_sentence_cites_the_passage_it_restates() -> None:
    answer = (
        "Check your refund status with the Where's My Refund tool or the IRS2Go app. "
        "Most refunds are issued within 21 calendar days."
    )

    attribution = attribute_sentences(answer, PASSAGES)

    assert attribution.numbers == (1, 2)
    assert attribution.text == (
        "Check your refund status with the Where's My Refund tool or the IRS2Go app. [1] "
        "Most refunds are issued within 21 calendar days. [2]"
    )


def test_a_sentence_the_passages_do_not_hold_stays_uncited() -> None:
    answer = "The capital of France is Paris and it hosts the Louvre museum."

    attribution = attribute_sentences(answer, PASSAGES)

    assert attribution.numbers == ()
    assert attribution.text == answer


def test_accents_and_case_do_not_hide_a_spanish_match() -> None:
    passages = [
        "Puede consultar el estado de su reembolso con la herramienta ¿Dónde está mi reembolso?"
    ]
    answer = "Consulte el ESTADO de su reembolso con la herramienta Donde esta mi reembolso."

    assert attribute_sentences(answer, passages).numbers == (1,)
