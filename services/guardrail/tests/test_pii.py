"""Personal-data detection: validators, each kind, look-alikes and obfuscation."""

from __future__ import annotations

from pathlib import Path

import pytest
from steward_guardrail.pii import (
    PiiDetector,
    PiiKind,
    aba_valid,
    ein_valid,
    itin_valid,
    luhn_valid,
    ssn_valid,
)


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector()


def _found(detector: PiiDetector, text: str) -> list[tuple[str, str]]:
    return [(span.kind.value, text[span.start : span.end]) for span in detector.detect(text)]


def test_checksums() -> None:
    assert luhn_valid("4111111111111111")
    assert not luhn_valid("4111111111111112")
    assert aba_valid("021000021")
    assert not aba_valid("021000022")
    assert not aba_valid("991000021")
    assert ssn_valid("123456789")
    assert not ssn_valid("666123456")
    assert not ssn_valid("123004567")
    assert itin_valid("912781234")
    assert not itin_valid("912401234")
    assert ein_valid("123456789")
    assert not ein_valid("073456789")


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("My SSN is 123-45-6789.", "SSN", "123-45-6789"),
        ("social security number 123456789 please", "SSN", "123456789"),
        ("ITIN 912-78-1234 expired", "ITIN", "912-78-1234"),
        ("Our EIN is 12-3456789.", "EIN", "12-3456789"),
        ("Call me at (512) 555-0142 today.", "PHONE", "(512) 555-0142"),
        ("Llámame al +52 55 1234 5678.", "PHONE", "+52 55 1234 5678"),
        ("Write to ana.g@example.org soon.", "EMAIL", "ana.g@example.org"),
        ("Card 4111 1111 1111 1111 was charged.", "CARD", "4111 1111 1111 1111"),
        ("routing number 021000021.", "ROUTING", "021000021"),
        ("checking account 00123456789 please", "ACCOUNT", "00123456789"),
        ("passport number X12345678 is valid", "PASSPORT", "X12345678"),
        ("my driver's license is D1234567", "DRIVER_LICENSE", "D1234567"),
        ("I was born on March 3, 1985.", "DOB", "March 3, 1985"),
        ("Nací el 3 de marzo de 1985.", "DOB", "3 de marzo de 1985"),
        ("My name is Ana Gómez.", "NAME", "Ana Gómez"),
        ("Me llamo José Luis Hernández García.", "NAME", "José Luis Hernández García"),
    ],
)
def test_each_kind_is_found(detector: PiiDetector, text: str, kind: str, value: str) -> None:
    assert (kind, value) in _found(detector, text)


def test_whole_address_is_one_span(detector: PiiDetector) -> None:
    text = "Send it to 1420 Oak Street, Apt 3B, Austin, TX 78701 please."
    assert _found(detector, text) == [("ADDRESS", "1420 Oak Street, Apt 3B, Austin, TX 78701")]


def test_spanish_address_is_one_span(detector: PiiDetector) -> None:
    text = "Vivo en Calle Luna 123, San Juan, PR 00901."
    assert _found(detector, text) == [("ADDRESS", "Calle Luna 123, San Juan, PR 00901")]


@pytest.mark.parametrize(
    "text",
    [
        "The return is due April 15, 2025 and the penalty is $1,234.56.",
        "Use Form 1040-X for tax year 2022 and Publication 505.",
        "Permit SP-2024-00871 expires on December 31, 2025.",
        "Visit the Lincoln County clerk or the San Antonio office.",
        "The office on Martin Luther King Jr. Boulevard opens at 8:30.",
        "El formulario 1040-ES vence el 15 de enero de 2025.",
        "Sales of $500,000 or more in the past 12 months need a permit.",
    ],
)
def test_lookalikes_are_left_alone(detector: PiiDetector, text: str) -> None:
    assert _found(detector, text) == []


def test_birth_date_needs_birth_context(detector: PiiDetector) -> None:
    deadline = "My payment was due on 03/14/2025."
    birth = "My date of birth is 03/14/1985."

    assert _found(detector, deadline) == []
    assert _found(detector, birth) == [("DOB", "03/14/1985")]


def test_bare_nine_digits_need_context(detector: PiiDetector) -> None:
    assert _found(detector, "Ticket 123456789 was closed.") == []


def test_fullwidth_and_hidden_characters_map_back_to_original_offsets(
    detector: PiiDetector,
) -> None:
    text = "SSN: \uff11\uff12\uff13-\uff14\uff15-\uff16\uff17\uff18\uff19 and 587\u200b-65-4321"

    spans = detector.detect(text)

    assert [span.kind for span in spans] == [PiiKind.SSN, PiiKind.SSN]
    assert (
        text[spans[0].start : spans[0].end]
        == "\uff11\uff12\uff13-\uff14\uff15-\uff16\uff17\uff18\uff19"
    )
    assert text[spans[1].start : spans[1].end] == "587\u200b-65-4321"


def test_sign_off_names_on_the_next_line(detector: PiiDetector) -> None:
    assert _found(detector, "Where is my refund?\nThanks,\nMaria") == [("NAME", "Maria")]


@pytest.mark.parametrize(
    "text",
    [
        "### Search for Money From Employers",
        "- Carolina del Norte\n- Dakota del Sur",
        "You can claim them as a dependent.\n\nThis credit is worth $500.",
        "Commandant of the Marine Corps",
        "Oficina del Departamento de Salud y Servicios Humanos",
    ],
)
def test_headings_and_institutions_are_not_names(detector: PiiDetector, text: str) -> None:
    assert [kind for kind, _ in _found(detector, text)] == []


def test_public_corpus_has_no_names_flagged(detector: PiiDetector) -> None:
    corpus = Path(__file__).resolve().parents[4] / "shared" / "corpus"
    if not corpus.is_dir():
        pytest.skip(f"shared corpus not found at {corpus}")
    flagged = []
    for path in sorted(corpus.glob("[0-9]*.md")):
        body = path.read_text(encoding="utf-8").split("---", 2)[-1]
        flagged += [(path.name, value) for kind, value in _found(detector, body) if kind == "NAME"]

    assert flagged == []
