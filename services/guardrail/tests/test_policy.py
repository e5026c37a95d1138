"""Policy files: validation errors name the field; version and hash are exposed."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml
from steward_guardrail import PolicyError, load_policies, load_policy

EXAMPLE_POLICY = Path(__file__).resolve().parents[1] / "policies" / "riverland-revenue.yaml"


def _write(tmp_path: Path, document: object, name: str = "tenant.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _example() -> dict[str, object]:
    return yaml.safe_load(EXAMPLE_POLICY.read_text(encoding="utf-8"))


def test_example_policy_loads_with_version_and_hash() -> None:
    policy = load_policy(EXAMPLE_POLICY)

    assert policy.tenant == "riverland-revenue"
    assert policy.version == "2026.12.1"
    assert policy.sha256 == hashlib.sha256(EXAMPLE_POLICY.read_bytes()).hexdigest()
    assert {topic.name for topic in policy.scope.topics} >= {"tax_filing", "environmental_permits"}


def test_threshold_out_of_range_names_the_field(tmp_path: Path) -> None:
    document = _example()
    document["injection"] = {"threshold": 1.7}

    with pytest.raises(PolicyError, match=r"field 'injection\.threshold'"):
        load_policy(_write(tmp_path, document))


def test_unknown_field_is_rejected_by_name(tmp_path: Path) -> None:
    document = _example()
    document["grounding"] = {"min_scor": 0.5}

    with pytest.raises(PolicyError, match=r"field 'grounding\.min_scor'"):
        load_policy(_write(tmp_path, document))


def test_missing_messages_and_bad_routing_are_both_reported(tmp_path: Path) -> None:
    document = _example()
    del document["messages"]
    document["output_routing"] = {"pii_leak": "release"}

    with pytest.raises(PolicyError) as raised:
        load_policy(_write(tmp_path, document))

    assert "field 'messages'" in str(raised.value)
    assert "field 'output_routing.pii_leak'" in str(raised.value)


def test_topic_without_phrases_is_rejected(tmp_path: Path) -> None:
    document = _example()
    document["scope"]["topics"][0]["phrases"] = []  # type: ignore[index]

    with pytest.raises(PolicyError, match=r"field 'scope\.topics\.0\.phrases'"):
        load_policy(_write(tmp_path, document))


def test_blank_blocked_term_is_rejected(tmp_path: Path) -> None:
    document = _example()
    document["blocked_terms"] = ["ok", "  "]

    with pytest.raises(PolicyError, match=r"field 'blocked_terms'"):
        load_policy(_write(tmp_path, document))


def test_invalid_yaml_and_non_mapping_are_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("tenant: [unclosed", encoding="utf-8")
    listing = _write(tmp_path, ["not", "a", "mapping"], "list.yaml")

    with pytest.raises(PolicyError, match="not valid YAML"):
        load_policy(broken)
    with pytest.raises(PolicyError, match="expected a mapping"):
        load_policy(listing)


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "absent.yaml")


def test_hash_changes_with_the_bytes(tmp_path: Path) -> None:
    first = tmp_path / "a.yaml"
    first.write_bytes(EXAMPLE_POLICY.read_bytes())
    second = tmp_path / "b.yaml"
    second.write_bytes(EXAMPLE_POLICY.read_bytes() + b"\n# edited\n")

    assert load_policy(first).sha256 != load_policy(second).sha256


def test_directory_load_rejects_duplicate_tenants(tmp_path: Path) -> None:
    _write(tmp_path, _example(), "one.yaml")
    _write(tmp_path, _example(), "two.yaml")

    with pytest.raises(PolicyError, match="already defined"):
        load_policies(tmp_path)


def test_directory_load_needs_a_policy(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"no \*\.yaml policy files"):
        load_policies(tmp_path)
