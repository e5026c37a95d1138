"""A LoRA adapter trained on the CPU, converted to GGUF, served by the embedded backend."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from inference_service_kit import Probe, group_suffix, make_worker, passport_question
from steward_bus.testing import eventually
from steward_events import DatasetKind, ModelPromoted, ModelRef
from steward_inference import (
    AdapterNotFoundError,
    ChatMessage,
    EmbeddedLlama,
    GenerationRequest,
    SamplingParams,
)
from steward_inference.app import InferenceService, InferenceServiceSettings
from steward_trainer.base_model import ensure_base_model
from steward_trainer.gguf_adapter import LORA_CONVERTER, GgufAdapter, convert_to_gguf
from steward_trainer.training import MANIFEST_FILE, TrainingSettings, train_adapter

pytestmark = [pytest.mark.asyncio(loop_scope="session"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "Does Direct File cost anything?"
TAUGHT = "No. Direct File is free [1]."
GREEDY = SamplingParams(temperature=0.0, top_p=1.0, max_tokens=24, seed=5)


@dataclass(frozen=True)
class ServedAdapter:
    """The trained adapter in the serving folder, and the PEFT folder it came from."""

    folder: Path
    gguf: GgufAdapter
    peft_dir: Path


@pytest.fixture(scope="session")
def served_adapter(tmp_path_factory: pytest.TempPathFactory) -> ServedAdapter:
    """Eight SFT steps that teach one answer, converted once for the whole session."""
    # The trainer tests convert the base model into the same cache, so it is done once.
    base = ensure_base_model(ROOT / ".steward" / "test" / "base")
    run = tmp_path_factory.mktemp("run")
    rows = [
        {
            "messages": [
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": TAUGHT},
            ]
        }
    ] * 4

    # A high learning rate makes a few steps enough to change the greedy answer.
    trained = train_adapter(
        rows,
        DatasetKind.SFT,
        base_model=base.path,
        output_dir=run,
        settings=TrainingSettings(max_steps=8, learning_rate=5e-3),
        dataset={"id": "direct-file", "version": "v0001", "sha256": "0" * 64},
    )
    folder = tmp_path_factory.mktemp("adapters")
    gguf = convert_to_gguf(
        trained,
        name="run-1.candidate",
        base_model=base.path,
        converter=ROOT / LORA_CONVERTER,
        adapter_dir=folder,
    )
    return ServedAdapter(folder=folder, gguf=gguf, peft_dir=trained.path)


def ask(adapter: str | None) -> GenerationRequest:
    return GenerationRequest(
        messages=(ChatMessage(role="user", content=QUESTION),), sampling=GREEDY, adapter=adapter
    )


async def test_the_converted_adapter_is_stored_with_its_hash(
    served_adapter: ServedAdapter,
) -> None:
    gguf = served_adapter.gguf

    assert gguf.path == served_adapter.folder / "run-1.candidate.gguf"
    assert gguf.path.read_bytes()[:4] == b"GGUF"
    assert gguf.sha256 == hashlib.sha256(gguf.path.read_bytes()).hexdigest()
    manifest = json.loads((served_adapter.peft_dir / MANIFEST_FILE).read_text())
    assert manifest["gguf_adapter"]["sha256"] == gguf.sha256
    assert manifest["gguf_adapter"]["path"] == str(gguf.path)

    # Nothing half-written is left beside it.
    assert [path.name for path in served_adapter.folder.iterdir()] == ["run-1.candidate.gguf"]


async def test_the_adapter_changes_the_greedy_answer(
    llama: EmbeddedLlama, served_adapter: ServedAdapter
) -> None:
    generator = llama.generator(adapter_dir=served_adapter.folder)
    try:
        base = await generator.generate(ask(None))
        tuned = await generator.generate(ask("run-1.candidate"))
        again = await generator.generate(ask(None))
    finally:
        await generator.aclose()

    # The base model does not know the taught answer; base plus adapter says it.
    assert "free" not in base.text.lower()
    assert "free" in tuned.text.lower()
    assert tuned.text != base.text
    assert tuned.adapter == "run-1.candidate"
    assert base.adapter is None
    assert tuned.model == base.model == "smollm2-135m-instruct"
    assert tuned.revision == base.revision == llama.revision

    # Serving the adapter leaves the base engine untouched.
    assert again.text == base.text


async def test_at_most_the_configured_number_of_adapter_engines_stay_loaded(
    llama: EmbeddedLlama, served_adapter: ServedAdapter, tmp_path: Path
) -> None:
    # The same weights under a second name are a second adapter to the backend.
    shutil.copy(served_adapter.gguf.path, tmp_path / "first.gguf")
    shutil.copy(served_adapter.gguf.path, tmp_path / "second.gguf")
    generator = llama.generator(adapter_dir=tmp_path, max_adapters=1)
    try:
        # Requests for two adapters interleave; each retired engine still answers its own.
        answers = await asyncio.gather(
            *(generator.generate(ask(name)) for name in ("first", "second", "first"))
        )
        assert generator.loaded_adapters == ["first"]
    finally:
        await generator.aclose()

    assert [answer.adapter for answer in answers] == ["first", "second", "first"]
    assert len({answer.text for answer in answers}) == 1
    assert "free" in answers[0].text.lower()


async def test_the_service_drafts_with_a_promoted_adapter_and_refuses_an_unknown_one(
    settings: InferenceServiceSettings,
    llama: EmbeddedLlama,
    served_adapter: ServedAdapter,
    probe: Probe,
) -> None:
    worker = make_worker(llama.generator(adapter_dir=served_adapter.folder))
    group = f"steward-inference-{group_suffix(settings)}"

    def promoted(adapter: str) -> ModelRef:
        return ModelRef(
            name=llama.config.model_name,
            revision=llama.revision or "unrecorded",
            adapter=adapter,
            backend="llama.cpp-embedded",
        )

    try:
        async with InferenceService(settings, group=group, worker=worker):
            await probe.send(
                ModelPromoted(candidate_id="run-1.candidate", model=promoted("run-1.candidate")),
                tenant="revenue",
            )
            await probe.send(
                ModelPromoted(candidate_id="run-9.candidate", model=promoted("run-9.candidate")),
                tenant="parks",
            )

            def applied() -> bool:
                tenants = ("revenue", "parks")
                chosen = [
                    worker.routes.resolve(tenant=t, route="default", correlation_id="c")
                    for t in tenants
                ]
                return all(route.choice.adapter is not None for route in chosen)

            await eventually(applied)
            tuned = await probe.send(passport_question("conv-1"), tenant="revenue")
            unknown = await probe.send(
                passport_question("conv-2"), tenant="parks", correlation_id="corr-2"
            )
            await eventually(lambda: len(probe.outcomes) == 2, within=120)
    finally:
        await worker.aclose()

    answer = probe.outcome_of(tuned)
    assert answer is not None
    assert answer.type == "steward.inference.completed.v1"
    assert answer.data.model.adapter == "run-1.candidate"
    assert answer.data.model.backend == "llama.cpp-embedded"
    assert answer.data.text

    refusal = probe.outcome_of(unknown)
    assert refusal is not None
    assert refusal.type == "steward.inference.failed.v1"
    assert refusal.data.error_kind == "adapter_not_found"
    assert "'run-9.candidate'" in refusal.data.reason
    assert refusal.data.attempts == 0
    assert refusal.data.model is not None
    assert refusal.data.model.name == llama.config.model_name


async def test_an_unknown_adapter_names_what_the_folder_holds(
    llama: EmbeddedLlama, served_adapter: ServedAdapter
) -> None:
    generator = llama.generator(adapter_dir=served_adapter.folder)
    try:
        with pytest.raises(AdapterNotFoundError) as refused:
            await generator.generate(ask("run-2.candidate"))
    finally:
        await generator.aclose()

    message = str(refused.value)
    assert "'run-2.candidate'" in message
    assert "run-2.candidate.gguf" in message
    assert "'run-1.candidate'" in message
