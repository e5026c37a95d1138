"""Quoting the passage sentence that covers a question, and focusing passages on it."""

from __future__ import annotations

from steward_inference._quoting import focus_passage, quote_answer, split_sentences

REFUND = (
    "Los cheques de reembolso se envían por correo a la última dirección que proveyó. "
    "Si esperaba un reembolso de impuestos federales y no lo recibió, consulte el estado de "
    "su reembolso en la página web ¿Dónde está mi reembolso? del IRS."
)
LOANS = "La SBA administra programas de préstamos; por ejemplo, el capital para empezar."


def test_a_tool_name_with_a_question_mark_stays_inside_its_sentence() -> None:
    assert split_sentences(REFUND)[1].endswith("¿Dónde está mi reembolso? del IRS.")


def test_list_marks_are_dropped_from_sentences() -> None:
    assert split_sentences("- Pague en línea con su tarjeta\n- O por correo") == [
        "Pague en línea con su tarjeta",
        "O por correo",
    ]


def test_the_sentence_holding_the_question_words_is_quoted_with_its_passage() -> None:
    quote = quote_answer(
        "¿Cómo puedo consultar el estado de mi reembolso de impuestos?", [LOANS, REFUND]
    )

    assert quote is not None
    assert quote.number == 2
    assert quote.sentence.startswith("Si esperaba un reembolso")
    assert quote.text.endswith("del IRS. [2]")


def test_a_passage_sharing_one_word_of_the_question_is_no_answer() -> None:
    # "capital" is in the passage, "Francia" is not: half the question is not enough.
    assert quote_answer("¿Cuál es la capital de Francia?", [LOANS, REFUND]) is None
    assert quote_answer("¿Cuánto cuesta una licencia de pesca en Alaska?", [REFUND]) is None


def test_a_question_of_function_words_only_is_no_answer() -> None:
    assert quote_answer("¿Cómo es?", [REFUND]) is None


def test_focus_keeps_the_matching_sentence_within_the_limit_in_passage_order() -> None:
    opening = " ".join(f"Frase de relleno número {n} sobre correo postal." for n in range(12))
    text = f"{opening} {REFUND}"

    focused = focus_passage(text, "¿Cómo consulto el estado de mi reembolso?", 360)

    assert len(focused) <= 360
    assert "¿Dónde está mi reembolso? del IRS." in focused
    assert focused.index("Los cheques") < focused.index("Si esperaba")


def test_a_short_passage_is_only_flattened() -> None:
    assert focus_passage("Uno.\n\nDos  tres.", "¿Qué?", 100) == "Uno. Dos tres."


def test_a_sentence_of_a_hard_wrapped_paragraph_is_quoted_whole() -> None:
    passage = (
        "Puede consultar el estado de su reembolso en RiverFile con su número de\n"
        "Seguro Social, su estado civil para efectos de la declaración y el monto\n"
        "exacto del reembolso. Los reembolsos tardan unas tres semanas."
    )
    assert split_sentences(passage)[0] == (
        "Puede consultar el estado de su reembolso en RiverFile con su número de Seguro Social, "
        "su estado civil para efectos de la declaración y el monto exacto del reembolso."
    )
    quote = quote_answer("¿Cómo puedo consultar el estado de mi reembolso?", [passage])
    assert quote is not None
    assert quote.sentence.startswith("Puede consultar") and quote.sentence.endswith("reembolso.")
