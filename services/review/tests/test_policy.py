"""Tenant policies from YAML and pseudonymous reviewer ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from steward_review import PolicyBook, PolicyError, Priority, ReviewerPseudonyms, answer_diff


def test_tenant_entries_override_only_the_fields_they_name(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "default:\n"
        '  contact_route: "311"\n'
        "  sla_minutes: {urgent: 10, high: 30, normal: 120, low: 600}\n"
        "tenants:\n"
        "  courts:\n"
        "    high_impact: true\n"
        "    sla_minutes: {urgent: 5, high: 20, normal: 60, low: 240}\n",
        encoding="utf-8",
    )
    start = datetime(2026, 12, 4, tzinfo=UTC)

    book = PolicyBook.from_yaml(path)

    courts = book.for_tenant("courts")
    unknown = book.for_tenant("parks")
    assert courts.high_impact is True
    assert courts.contact_route == "311"
    assert courts.due_at(Priority.URGENT, start) == start + timedelta(minutes=5)
    assert unknown.high_impact is False
    assert unknown.due_at(Priority.LOW, start) == start + timedelta(minutes=600)
    assert "311" in unknown.decline_text()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "must be a mapping"),
        ("tenants:\n  courts:\n    sla_minutes: {urgent: -5}\n", "malformed"),
        ("default:\n  surprise: 1\n", "malformed"),
        ("default: [unclosed\n", "cannot read"),
    ],
)
def test_malformed_policy_files_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(PolicyError, match=message) as raised:
        PolicyBook.from_yaml(path)

    assert str(path) in str(raised.value)


def test_pseudonyms_are_stable_distinct_and_hide_the_subject() -> None:
    pseudonyms = ReviewerPseudonyms(b"k" * 32)
    other_key = ReviewerPseudonyms(b"j" * 32)

    ann = pseudonyms.of("ann@agency.gov")

    assert ann == pseudonyms.of("ann@agency.gov")
    assert ann != pseudonyms.of("bob@agency.gov")
    assert ann != other_key.of("ann@agency.gov")
    assert "ann" not in ann
    assert ann.startswith("rv-")


def test_short_pseudonym_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        ReviewerPseudonyms(b"short")


def test_answer_diff_is_a_unified_diff() -> None:
    diff = answer_diff("one\ntwo\nthree", "one\n2\nthree")

    assert diff.splitlines() == [
        "--- draft",
        "+++ edited",
        "@@ -1,3 +1,3 @@",
        " one",
        "-two",
        "+2",
        " three",
    ]
