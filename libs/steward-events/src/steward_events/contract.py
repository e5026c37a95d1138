"""The published contract: one JSON Schema per event type and version, and an AsyncAPI document.

Run `python -m steward_events.contract write DIR` to regenerate, `check DIR` to compare.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from steward_events.envelope import EventSpec, all_specs

ASYNCAPI_FILE = "asyncapi.json"
JsonObject = dict[str, Any]

# Keys that document a schema without changing what it accepts.
_ANNOTATIONS = frozenset({"title", "description", "examples"})


class IncompatibleChange(ValueError):
    """A committed schema changed in a way that breaks readers of the same version."""


def schema_filename(spec: EventSpec) -> str:
    """The file that holds one event type's schema, e.g. 'steward.chat.requested.v1.json'."""
    return f"{spec.type}.json"


def event_schema(spec: EventSpec) -> JsonObject:
    """The JSON Schema of an event type's full envelope, payload included."""
    schema: JsonObject = spec.envelope.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = spec.dataschema
    schema["title"] = spec.type
    schema["description"] = spec.description
    return schema


def asyncapi_document(specs: list[EventSpec]) -> JsonObject:
    """An AsyncAPI 3 document with one channel per topic and its dead-letter topic."""
    channels: JsonObject = {}
    operations: JsonObject = {}
    messages: JsonObject = {}
    dead_letter = next(s for s in specs if not s.own_topic)
    for spec in specs:
        if not spec.own_topic:
            continue
        key = spec.type.replace(".", "_")
        messages[key] = {
            "name": spec.type,
            "title": spec.model.__name__,
            "summary": spec.description,
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"./{schema_filename(spec)}"},
            "bindings": {"kafka": {"key": {"type": "string", "description": "correlation id"}}},
        }
        channels[key] = {
            "address": spec.topic,
            "messages": {key: {"$ref": f"#/components/messages/{key}"}},
        }
        channels[key + "_dlq"] = {
            "address": spec.dlq_topic,
            "messages": {"dead_lettered": {"$ref": "#/components/messages/dead_lettered"}},
        }
        operations[f"publish_{key}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{key}"},
        }
    messages["dead_lettered"] = {
        "name": dead_letter.type,
        "title": dead_letter.model.__name__,
        "summary": dead_letter.description,
        "contentType": "application/cloudevents+json",
        "payload": {"$ref": f"./{schema_filename(dead_letter)}"},
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Steward events",
            "version": "1",
            "description": (
                "Every event Steward's services exchange. Each topic carries one event type "
                "and major version; the key is the correlation id; the value is a CloudEvents "
                "1.0 structured JSON envelope. A message a consumer cannot handle goes to the "
                "topic's .dlq twin."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render(document: JsonObject) -> str:
    """Serialise a schema the way it is committed: sorted keys, two-space indent."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_files() -> dict[str, str]:
    """Every contract file's name and content as the models define them now."""
    specs = all_specs()
    files = {schema_filename(spec): render(event_schema(spec)) for spec in specs}
    files[ASYNCAPI_FILE] = render(asyncapi_document(specs))
    return files


def write_contract(directory: Path) -> list[str]:
    """Write the contract files into a folder, removing none, and return the names written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated_files().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(name)
    return written


def drifted_files(directory: Path) -> list[str]:
    """Contract files that are missing or differ from what the models generate."""
    drifted = []
    for name, text in generated_files().items():
        path = directory / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            drifted.append(name)
    return drifted


def compatibility_errors(old: JsonObject, new: JsonObject) -> list[str]:
    """Why a schema `new` cannot replace `old` within the same version; empty when it can.

    Allowed: new optional properties, new documentation. Everything else a reader of the old
    schema relies on (required fields, types, bounds, enum values, defaults) must stay as it was.
    """
    errors: list[str] = []
    _compare(old, new, old, new, "$", errors, seen=set())
    return errors


def _resolve(node: JsonObject, root: JsonObject) -> JsonObject:
    # Local references only: every schema Steward writes is self-contained.
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise IncompatibleChange(f"Unsupported schema reference {ref!r}: expected '#/...'")
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = target
    return node


def _compare(
    old: JsonObject,
    new: JsonObject,
    old_root: JsonObject,
    new_root: JsonObject,
    where: str,
    errors: list[str],
    seen: set[tuple[int, int]],
) -> None:
    old = _resolve(old, old_root)
    new = _resolve(new, new_root)
    if (id(old), id(new)) in seen:
        return
    seen.add((id(old), id(new)))

    # Objects: compare property by property; new optional properties are fine.
    if "properties" in old or "properties" in new:
        old_props = old.get("properties", {})
        new_props = new.get("properties", {})
        for name, old_prop in old_props.items():
            if name not in new_props:
                errors.append(f"{where}.{name}: property removed")
                continue
            _compare(
                old_prop, new_props[name], old_root, new_root, f"{where}.{name}", errors, seen
            )
        old_required = set(old.get("required", []))
        new_required = set(new.get("required", []))
        for name in sorted(new_required - old_required):
            errors.append(f"{where}.{name}: property became required")
        for name in sorted(old_required - new_required):
            errors.append(f"{where}.{name}: property is no longer required")
        rest_old = _constraints(old, skip={"properties", "required"})
        rest_new = _constraints(new, skip={"properties", "required"})
        if rest_old != rest_new:
            errors.append(f"{where}: object constraints changed")
        return

    # Unions and arrays: compare branch by branch.
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        if key in old or key in new:
            old_branches, new_branches = old.get(key, []), new.get(key, [])
            if len(old_branches) != len(new_branches):
                errors.append(f"{where}: {key} changed from {len(old_branches)} branches")
                return
            for index, (a, b) in enumerate(zip(old_branches, new_branches, strict=True)):
                _compare(a, b, old_root, new_root, f"{where}.{key}[{index}]", errors, seen)
    for key in ("items", "additionalProperties"):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            _compare(old[key], new[key], old_root, new_root, f"{where}.{key}", errors, seen)
    skip = {"anyOf", "oneOf", "allOf", "prefixItems", "items", "additionalProperties"}
    if _constraints(old, skip=skip) != _constraints(new, skip=skip):
        errors.append(
            f"{where}: constraints changed from {_constraints(old, skip=skip)} "
            f"to {_constraints(new, skip=skip)}"
        )


def _constraints(node: JsonObject, *, skip: set[str]) -> JsonObject:
    return {
        key: value
        for key, value in node.items()
        if key not in skip and key not in _ANNOTATIONS and key != "$defs" and key != "$id"
    }


def main(argv: list[str] | None = None) -> int:
    """Write or check the contract folder: `write DIR` or `check DIR`."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in {"write", "check"}:
        print("usage: python -m steward_events.contract write|check DIR", file=sys.stderr)
        return 2
    directory = Path(args[1])
    if args[0] == "write":
        written = write_contract(directory)
        print(f"{len(written)} contract file(s) written to {directory}")
        return 0
    drifted = drifted_files(directory)
    for name in drifted:
        print(f"drifted: {directory / name}", file=sys.stderr)
    return 1 if drifted else 0


if __name__ == "__main__":
    raise SystemExit(main())
