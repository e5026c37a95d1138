"""Checkpoints verify under their key and fail on any change."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from steward_ledger_proofs import (
    Checkpoint,
    CheckpointSignatureError,
    CheckpointSigner,
    public_key_from_pem,
    verify_checkpoint,
)

ROOT = bytes(range(32))


@pytest.fixture(scope="module")
def signer() -> CheckpointSigner:
    return CheckpointSigner.generate()


def test_a_signed_checkpoint_verifies_and_survives_json(signer: CheckpointSigner) -> None:
    checkpoint = signer.sign(12, ROOT, at=datetime(2026, 12, 4, 17, 8, tzinfo=UTC))

    restored = Checkpoint.from_json(checkpoint.to_json())

    assert restored == checkpoint
    assert restored.time == "2026-12-04T17:08:00.000000Z"
    verify_checkpoint(restored, signer.public_key)


@pytest.mark.parametrize(
    "change",
    [
        {"tree_size": 13},
        {"root_hash": bytes(32)},
        {"time": "2026-12-05T00:00:00.000000Z"},
    ],
)
def test_any_changed_field_breaks_the_signature(
    signer: CheckpointSigner, change: dict[str, object]
) -> None:
    checkpoint = dataclasses.replace(signer.sign(12, ROOT), **change)  # type: ignore[arg-type]

    with pytest.raises(CheckpointSignatureError, match="does not verify"):
        verify_checkpoint(checkpoint, signer.public_key)


def test_another_key_is_named_in_the_error(signer: CheckpointSigner) -> None:
    other = CheckpointSigner.generate()

    with pytest.raises(CheckpointSignatureError, match=other.key_id):
        verify_checkpoint(signer.sign(1, ROOT), other.public_key)


def test_keys_export_and_reload_as_pem(signer: CheckpointSigner) -> None:
    reloaded = CheckpointSigner.from_pem(signer.private_pem())

    assert reloaded.key_id == signer.key_id
    assert public_key_from_pem(signer.public_pem()) == signer.public_key
    verify_checkpoint(reloaded.sign(3, ROOT), signer.public_key)


def test_malformed_checkpoint_json_names_what_was_expected() -> None:
    with pytest.raises(CheckpointSignatureError, match="expected tree_size"):
        Checkpoint.from_json({"tree_size": 1})
