"""The prompt registry: files, versions, hashes and what a rendered prompt tells the model."""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

import pytest

from steward_inference import (
    Passage,
    PromptNotFoundError,
    PromptRegistry,
    PromptTemplateError,
    parse_template,
)
from steward_inference._prompts import shorten_passage


def packaged_bytes(version: int = 1) -> bytes:
    name = f"grounded-answer.v{version}.toml"
    return resources.files("steward_inference").joinpath("prompts", name).read_bytes()


def passages(count: int) -> tuple[Passage, ...]:
    return tuple(
        Passage(chunk_id=f"chunk-{n}", text=f"Fact number {n} about permits.")
        for n in range(count)
    )


@pytest.mark.parametrize("version", [1, 2, 3])
def test_packaged_template_hash_is_sha256_of_its_file(version: int) -> None:
    template = PromptRegistry.packaged().get("grounded-answer", version)

    assert template.version == version
    assert template.sha256 == hashlib.sha256(packaged_bytes(version)).hexdigest()
    assert template.ref.sha256 == template.sha256


def test_latest_version_is_the_default() -> None:
    registry = PromptRegistry.packaged()

    assert registry.get("grounded-answer").version == 3
    assert registry.get("grounded-answer").sha256 != registry.get("grounded-answer", 2).sha256


def test_v3_quotes_spanish_and_lets_the_model_write_english() -> None:
    template = PromptRegistry.packaged().get("grounded-answer", 3)

    assert template.focus_passages
    assert template.languages["es"].answer == "quote"
    assert template.languages["en"].answer == "generate"
    spanish = template.render(question="¿Qué es?", passages=passages(1), language="es")
    assert spanish.answer == "quote"


def test_earlier_versions_keep_generating_and_cutting_at_the_head() -> None:
    for version in (1, 2):
        template = PromptRegistry.packaged().get("grounded-answer", version)
        assert not template.focus_passages
        assert {wording.answer for wording in template.languages.values()} == {"generate"}


def test_a_template_with_an_unknown_answer_mode_is_refused() -> None:
    edited = packaged_bytes(3).replace(b'answer = "quote"', b'answer = "translate"')

    with pytest.raises(PromptTemplateError, match="'translate'"):
        parse_template(edited, source="edited.toml")


def test_focused_template_shows_the_sentence_the_question_is_about() -> None:
    opening = "Refund checks are mailed to the last address you gave. " * 8
    answer = "Check the status of your refund with the Where's My Refund tool."
    long_passage = Passage(chunk_id="c", text=f"{opening}{answer}")
    question = "How do I check the status of my refund?"

    focused = PromptRegistry.packaged().get("grounded-answer", 3)
    headed = PromptRegistry.packaged().get("grounded-answer", 2)

    assert (
        answer
        in focused.render(question=question, passages=(long_passage,), language="en")
        .messages[1]
        .content
    )
    assert (
        answer
        not in headed.render(question=question, passages=(long_passage,), language="en")
        .messages[1]
        .content
    )


def test_render_numbers_passages_and_states_the_rules() -> None:
    template = PromptRegistry.packaged().get("grounded-answer")

    rendered = template.render(
        question="How do I renew my passport?", passages=passages(2), language="en"
    )

    system, user = rendered.messages
    assert system.role == "system"
    assert "Use only the passages" in system.content
    assert "[1]" in system.content
    assert "English" in system.content
    assert "The documents provided do not contain the answer." in system.content
    assert "[1] Fact number 0 about permits." in user.content
    assert "[2] Fact number 1 about permits." in user.content
    assert "Question: How do I renew my passport?" in user.content
    assert rendered.prompt == template.ref


def test_render_in_spanish_uses_spanish_wording() -> None:
    template = PromptRegistry.packaged().get("grounded-answer")

    rendered = template.render(question="¿Cómo renuevo?", passages=passages(1), language="es")

    assert "Spanish" in rendered.messages[0].content
    assert rendered.no_answer == "Los documentos proporcionados no contienen la respuesta."


def test_render_keeps_only_the_first_passages_the_template_allows() -> None:
    template = PromptRegistry.packaged().get("grounded-answer")

    rendered = template.render(question="q", passages=passages(7), language="en")

    assert len(rendered.passages) == template.max_passages
    assert [p.chunk_id for p in rendered.passages] == ["chunk-0", "chunk-1", "chunk-2"]
    assert f"[{template.max_passages + 1}]" not in rendered.messages[1].content


def test_render_refuses_a_language_the_template_lacks() -> None:
    template = PromptRegistry.packaged().get("grounded-answer")

    with pytest.raises(PromptTemplateError, match="'fr'"):
        template.render(question="q", passages=passages(1), language="fr")


def test_long_passage_is_shortened_at_a_boundary() -> None:
    text = "First sentence here. " * 10 + "tail words that go on and on"

    short = shorten_passage(text, 100)

    assert len(short) <= 104
    assert short.endswith(".")
    assert shorten_passage("a  b\n\nc", 100) == "a b c"


def test_changed_template_content_changes_the_hash(tmp_path: Path) -> None:
    original = packaged_bytes()
    edited = original.replace(b"version = 1", b"version = 2").replace(
        b"in one or two sentences", b"in one short sentence"
    )
    (tmp_path / "grounded-answer.v1.toml").write_bytes(original)
    (tmp_path / "grounded-answer.v2.toml").write_bytes(edited)

    registry = PromptRegistry.from_directory(tmp_path)

    first = registry.get("grounded-answer", 1)
    latest = registry.get("grounded-answer")
    assert latest.version == 2
    assert latest.sha256 == hashlib.sha256(edited).hexdigest()
    assert latest.sha256 != first.sha256
    rendered = latest.render(question="q", passages=passages(1), language="en")
    assert rendered.prompt.sha256 == latest.sha256
    assert "one short sentence" in rendered.messages[0].content


def test_unknown_id_and_version_name_what_exists() -> None:
    registry = PromptRegistry.packaged()

    with pytest.raises(PromptNotFoundError, match="known ids: \\['grounded-answer'\\]"):
        registry.get("no-such-template")
    with pytest.raises(PromptNotFoundError, match="known versions: \\[1, 2, 3\\]"):
        registry.get("grounded-answer", 9)


def test_template_missing_a_placeholder_is_refused() -> None:
    broken = packaged_bytes().replace(b"$question", b"the question")

    with pytest.raises(PromptTemplateError, match="placeholders"):
        parse_template(broken, source="broken.toml")


def test_template_missing_a_field_is_refused() -> None:
    broken = packaged_bytes().replace(b"max_passages = 3", b"")

    with pytest.raises(PromptTemplateError, match="max_passages"):
        parse_template(broken, source="broken.toml")


def test_duplicate_id_and_version_is_refused() -> None:
    template = parse_template(packaged_bytes(), source="a.toml")

    with pytest.raises(PromptTemplateError, match="defined twice"):
        PromptRegistry([template, template])
