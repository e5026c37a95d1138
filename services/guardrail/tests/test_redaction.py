"""Placeholders stay consistent per conversation; originals are sealed with AES-GCM."""

from __future__ import annotations

import base64
import os

import pytest
from steward_guardrail import OriginalsCipher, PiiDetector, Redactor, SealError, parse_key
from steward_guardrail.pii import PiiKind


@pytest.fixture
def cipher() -> OriginalsCipher:
    return OriginalsCipher(os.urandom(32))


@pytest.fixture(scope="module")
def detector() -> PiiDetector:
    return PiiDetector()


def test_same_value_same_placeholder_across_messages(
    cipher: OriginalsCipher, detector: PiiDetector
) -> None:
    redactor = Redactor(cipher)
    first = "My SSN is 123-45-6789 and hers is 234-56-7890."
    second = "Again, mine is 123 45 6789."

    one = redactor.redact(first, detector.detect(first), "conv-1")
    two = redactor.redact(second, detector.detect(second), "conv-1")

    assert one.text == "My SSN is <SSN_1> and hers is <SSN_2>."
    assert two.text == "Again, mine is <SSN_1>."


def test_conversations_do_not_share_numbering(
    cipher: OriginalsCipher, detector: PiiDetector
) -> None:
    redactor = Redactor(cipher)
    redactor.redact("SSN 234-56-7890", detector.detect("SSN 234-56-7890"), "conv-a")
    text = "SSN 123-45-6789"

    assert redactor.redact(text, detector.detect(text), "conv-b").text == "SSN <SSN_1>"


def test_sealed_originals_open_only_in_their_conversation(
    cipher: OriginalsCipher, detector: PiiDetector
) -> None:
    redactor = Redactor(cipher)
    text = "Email me at ana.g@example.org"
    redaction = redactor.redact(text, detector.detect(text), "conv-1")
    sealed = redaction.sealed[0]

    assert sealed.placeholder == "<EMAIL_1>"
    assert "ana.g" not in sealed.token
    assert b"ana.g" not in base64.urlsafe_b64decode(sealed.token.split(".")[2] + "==")
    assert cipher.open(sealed.token, "conv-1", "<EMAIL_1>") == "ana.g@example.org"
    with pytest.raises(SealError, match="does not open"):
        cipher.open(sealed.token, "conv-2", "<EMAIL_1>")


def test_originals_are_not_kept_when_policy_says_so(
    cipher: OriginalsCipher, detector: PiiDetector
) -> None:
    text = "Call (512) 555-0142"
    redaction = Redactor(cipher).redact(text, detector.detect(text), "c", keep_originals=False)

    assert redaction.text == "Call <PHONE_1>"
    assert redaction.sealed == []


def test_fingerprints_ignore_formatting(cipher: OriginalsCipher) -> None:
    assert cipher.fingerprint(PiiKind.PHONE, "+1 512 555 0142") == cipher.fingerprint(
        PiiKind.PHONE, "(512) 555-0142"
    )
    assert cipher.fingerprint(PiiKind.SSN, "123-45-6789") != cipher.fingerprint(
        PiiKind.ITIN, "123-45-6789"
    )


def test_key_parsing_checks_size_and_encoding() -> None:
    key = os.urandom(32)

    assert parse_key(base64.b64encode(key).decode()) == key
    with pytest.raises(SealError, match="Invalid PII key size: 16 bytes"):
        parse_key(base64.b64encode(os.urandom(16)).decode())
    with pytest.raises(SealError, match="not valid base64"):
        parse_key("***")


def test_token_from_another_key_is_refused(cipher: OriginalsCipher) -> None:
    token = OriginalsCipher(os.urandom(32)).seal("x", "c", "<SSN_1>")

    with pytest.raises(SealError, match="uses key"):
        cipher.open(token, "c", "<SSN_1>")
