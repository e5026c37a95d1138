"""The committed contract matches the models and only ever changes compatibly."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, Field
from steward_events import all_specs
from steward_events.contract import (
    ASYNCAPI_FILE,
    compatibility_errors,
    drifted_files,
    event_schema,
    schema_filename,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "schemas"


def test_committed_schemas_match_the_models() -> None:
    assert drifted_files(SCHEMAS) == [], "run `make schemas` and commit the result"


def test_every_event_type_has_a_versioned_schema_and_a_channel() -> None:
    asyncapi = json.loads((SCHEMAS / ASYNCAPI_FILE).read_text())
    addresses = {channel["address"] for channel in asyncapi["channels"].values()}
    for spec in all_specs():
        assert (SCHEMAS / schema_filename(spec)).exists()
        if spec.own_topic:
            assert spec.topic in addresses and spec.dlq_topic in addresses
            assert spec.topic.startswith("steward.") and spec.topic.endswith(f".v{spec.version}")
    assert asyncapi["asyncapi"].startswith("3.")


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def _history(path: Path) -> list[dict[str, Any]]:
    relative = path.relative_to(ROOT).as_posix()
    versions, blobs = [], set()
    for commit in _git("log", "--format=%H", "--", relative).split():
        blob = (
            _git("rev-parse", f"{commit}:{relative}").strip() if _exists(commit, relative) else ""
        )
        if blob and blob not in blobs:
            blobs.add(blob)
            versions.append(json.loads(_git("cat-file", "-p", blob)))
    return versions


def _exists(commit: str, relative: str) -> bool:
    result = subprocess.run(
        ["git", "cat-file", "-e", f"{commit}:{relative}"], cwd=ROOT, capture_output=True
    )
    return result.returncode == 0


def test_no_committed_schema_version_was_changed_incompatibly() -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: no history to compare against")
    checked = 0
    for spec in all_specs():
        path = SCHEMAS / schema_filename(spec)
        current = json.loads(path.read_text())
        for old in _history(path):
            assert compatibility_errors(old, current) == [], f"{path.name} broke its version"
            checked += 1
    committed = _git("ls-files", "schemas").split()
    assert checked >= len([name for name in committed if name != f"schemas/{ASYNCAPI_FILE}"])


# The checker itself, on models changed in each way a reader would notice.


class _Old(BaseModel):
    name: str = Field(max_length=50)
    count: int = Field(ge=0)
    kind: str = Field(pattern="^(a|b)$")
    note: str | None = None


def _schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema()


def test_new_optional_fields_and_new_descriptions_are_compatible() -> None:
    class New(BaseModel):
        name: str = Field(max_length=50, description="Now documented.")
        count: int = Field(ge=0)
        kind: str = Field(pattern="^(a|b)$")
        note: str | None = None
        extra: str | None = None

    assert compatibility_errors(_schema(_Old), _schema(New)) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("removed", "note: property removed"),
        ("required", "extra: property became required"),
        ("type", "count: constraints changed"),
        ("bound", "name: constraints changed"),
        ("pattern", "kind: constraints changed"),
    ],
)
def test_incompatible_changes_are_caught(change: str, expected: str) -> None:
    fields: dict[str, Any] = {
        "name": (str, Field(max_length=50)),
        "count": (int, Field(ge=0)),
        "kind": (str, Field(pattern="^(a|b)$")),
        "note": (str | None, None),
    }
    if change == "removed":
        del fields["note"]
    elif change == "required":
        fields["extra"] = (str, ...)
    elif change == "type":
        fields["count"] = (str, ...)
    elif change == "bound":
        fields["name"] = (str, Field(max_length=20))
    elif change == "pattern":
        fields["kind"] = (str, Field(pattern="^(a|b|c)$"))
    from pydantic import create_model

    new = create_model("_Old", **fields)
    errors = compatibility_errors(_schema(_Old), _schema(new))
    assert any(expected in error for error in errors), errors


def test_a_real_event_schema_checks_against_itself_and_catches_a_narrowed_enum() -> None:
    spec = next(s for s in all_specs() if s.type == "steward.chat.responded.v1")
    schema = event_schema(spec)
    assert compatibility_errors(schema, json.loads(json.dumps(schema))) == []

    narrowed = json.loads(json.dumps(schema))
    narrowed["$defs"]["Disposition"]["enum"].remove("unavailable")
    assert any("disposition" in error for error in compatibility_errors(schema, narrowed))
