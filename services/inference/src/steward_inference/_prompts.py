"""Versioned prompt templates stored as files, and the rendering of a grounded prompt."""

from __future__ import annotations

import hashlib
import re
import string
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from steward_inference._errors import PromptNotFoundError, PromptTemplateError
from steward_inference._quoting import focus_passage

_PLACEHOLDERS_SYSTEM = frozenset({"language", "no_answer"})
_PLACEHOLDERS_USER = frozenset({"passages", "question"})
_WHITESPACE = re.compile(r"\s+")

# How a template answers in a language: the model writes, or a passage sentence is quoted.
ANSWER_MODES = frozenset({"generate", "quote"})


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings sent to the model and recorded with every draft."""

    temperature: float
    top_p: float
    max_tokens: int
    seed: int

    def overridden(
        self,
        *,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
    ) -> SamplingParams:
        """Return a copy with the given fields replaced and the others kept."""
        return SamplingParams(
            temperature=self.temperature if temperature is None else temperature,
            top_p=self.top_p if top_p is None else top_p,
            max_tokens=self.max_tokens if max_tokens is None else max_tokens,
            seed=self.seed if seed is None else seed,
        )


@dataclass(frozen=True)
class Passage:
    """One retrieved chunk of a document, as the retrieval step handed it over."""

    chunk_id: str
    text: str
    document_id: str | None = None


@dataclass(frozen=True)
class PromptRef:
    """Which template produced a prompt: id, version and SHA-256 of the template file."""

    id: str
    version: int
    sha256: str


@dataclass(frozen=True)
class ChatMessage:
    """One chat message in the OpenAI role/content shape."""

    role: str
    content: str


@dataclass(frozen=True)
class LanguageText:
    """The wording a template uses for one answer language, and how it answers in it."""

    name: str
    no_answer: str
    answer: str = "generate"


@dataclass(frozen=True)
class RenderedPrompt:
    """The messages for the model and everything needed to record how they were made."""

    messages: tuple[ChatMessage, ...]
    prompt: PromptRef
    language: str
    passages: tuple[Passage, ...]
    no_answer: str
    sampling: SamplingParams
    answer: str = "generate"


@dataclass(frozen=True)
class PromptTemplate:
    """A versioned grounded-answer template loaded from one file."""

    id: str
    version: int
    system: str
    user: str
    sampling: SamplingParams
    languages: Mapping[str, LanguageText]
    max_passages: int
    max_passage_chars: int
    sha256: str
    source: str = field(default="", compare=False)
    focus_passages: bool = False

    @property
    def ref(self) -> PromptRef:
        """Return the id, version and hash that identify this template."""
        return PromptRef(id=self.id, version=self.version, sha256=self.sha256)

    def render(
        self,
        *,
        question: str,
        passages: Sequence[Passage],
        language: str,
    ) -> RenderedPrompt:
        """Render the chat messages for a question and its retrieved passages."""
        wording = self.languages.get(language)
        if wording is None:
            raise PromptTemplateError(
                f"Template {self.id} v{self.version} has no wording for language "
                f"{language!r}; expected one of {sorted(self.languages)}"
            )

        # Number only the passages the model will see, so [n] maps back to a chunk id.
        kept = tuple(passages[: self.max_passages])
        numbered = "\n".join(
            f"[{number}] {self._shortened(passage.text, question)}"
            for number, passage in enumerate(kept, start=1)
        )

        system = string.Template(self.system).substitute(
            language=wording.name, no_answer=wording.no_answer
        )
        user = string.Template(self.user).substitute(
            passages=numbered, question=_WHITESPACE.sub(" ", question).strip()
        )
        return RenderedPrompt(
            messages=(
                ChatMessage(role="system", content=system.strip()),
                ChatMessage(role="user", content=user.strip()),
            ),
            prompt=self.ref,
            language=language,
            passages=kept,
            no_answer=wording.no_answer,
            sampling=self.sampling,
            answer=wording.answer,
        )

    def _shortened(self, text: str, question: str) -> str:
        """Cut a passage to the limit: around the question's words, or else at its head."""
        if self.focus_passages:
            return focus_passage(text, question, self.max_passage_chars)
        return shorten_passage(text, self.max_passage_chars)


def shorten_passage(text: str, limit: int) -> str:
    """Collapse whitespace and cut the text at a word boundary within the limit."""
    flat = _WHITESPACE.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat

    # Cut at the last sentence end if one is near the limit, else at the last space.
    cut = flat[:limit]
    sentence_end = max(cut.rfind(". "), cut.rfind("? "), cut.rfind("! "))
    if sentence_end >= limit // 2:
        return cut[: sentence_end + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > 0 else cut).rstrip(",;:") + " ..."


def parse_template(content: bytes, *, source: str) -> PromptTemplate:
    """Parse one template file's bytes into a template whose hash covers those bytes."""
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PromptTemplateError(
            f"Template file {source} is not valid UTF-8 TOML: {error}"
        ) from error

    try:
        sampling = raw["sampling"]
        template = PromptTemplate(
            id=str(raw["id"]),
            version=int(raw["version"]),
            system=str(raw["system"]),
            user=str(raw["user"]),
            sampling=SamplingParams(
                temperature=float(sampling["temperature"]),
                top_p=float(sampling["top_p"]),
                max_tokens=int(sampling["max_tokens"]),
                seed=int(sampling["seed"]),
            ),
            languages={
                code: LanguageText(
                    name=str(text["name"]),
                    no_answer=str(text["no_answer"]),
                    answer=str(text.get("answer", "generate")),
                )
                for code, text in raw["languages"].items()
            },
            max_passages=int(raw["max_passages"]),
            max_passage_chars=int(raw["max_passage_chars"]),
            sha256=hashlib.sha256(content).hexdigest(),
            source=source,
            focus_passages=bool(raw.get("focus_passages", False)),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise PromptTemplateError(
            f"Template file {source} lacks or mistypes a field ({error!r}); expected id, "
            "version, system, user, max_passages, max_passage_chars, [sampling] and "
            "[languages.<code>]"
        ) from error

    for code, wording in template.languages.items():
        if wording.answer not in ANSWER_MODES:
            raise PromptTemplateError(
                f"Template file {source}: language {code!r} answers by {wording.answer!r}; "
                f"expected one of {sorted(ANSWER_MODES)}"
            )

    _check_placeholders(template.system, _PLACEHOLDERS_SYSTEM, source=source, part="system")
    _check_placeholders(template.user, _PLACEHOLDERS_USER, source=source, part="user")
    return template


def _check_placeholders(text: str, expected: frozenset[str], *, source: str, part: str) -> None:
    """Refuse a template whose placeholders differ from those the renderer fills."""
    found = {
        match.group("named") or match.group("braced")
        for match in string.Template.pattern.finditer(text)
        if match.group("named") or match.group("braced")
    }
    if found != expected:
        raise PromptTemplateError(
            f"Template file {source}: the {part} text uses placeholders {sorted(found)}; "
            f"expected exactly {sorted(expected)}"
        )


class PromptRegistry:
    """Every template the service can render, by id and version."""

    def __init__(self, templates: Iterable[PromptTemplate]) -> None:
        self._templates: dict[tuple[str, int], PromptTemplate] = {}
        for template in templates:
            key = (template.id, template.version)
            if key in self._templates:
                raise PromptTemplateError(
                    f"Template {template.id} v{template.version} is defined twice: "
                    f"{self._templates[key].source} and {template.source}"
                )
            self._templates[key] = template

    @classmethod
    def from_directory(cls, directory: Path) -> PromptRegistry:
        """Load every *.toml template file in a folder."""
        if not directory.is_dir():
            raise PromptTemplateError(f"Prompt folder {directory} does not exist")
        return cls(
            parse_template(path.read_bytes(), source=str(path))
            for path in sorted(directory.glob("*.toml"))
        )

    @classmethod
    def packaged(cls) -> PromptRegistry:
        """Load the templates shipped inside this package."""
        folder = resources.files("steward_inference").joinpath("prompts")
        return cls(
            parse_template(entry.read_bytes(), source=f"steward_inference/prompts/{entry.name}")
            for entry in sorted(folder.iterdir(), key=lambda item: item.name)
            if entry.name.endswith(".toml")
        )

    def get(self, template_id: str, version: int | None = None) -> PromptTemplate:
        """Return a template by id, at the given version or else the latest one."""
        versions = sorted(v for (tid, v) in self._templates if tid == template_id)
        if not versions:
            raise PromptNotFoundError(
                f"No prompt template with id {template_id!r}; known ids: {sorted(self.ids())}"
            )

        chosen = versions[-1] if version is None else version
        template = self._templates.get((template_id, chosen))
        if template is None:
            raise PromptNotFoundError(
                f"Prompt template {template_id!r} has no version {version}; "
                f"known versions: {versions}"
            )
        return template

    def ids(self) -> set[str]:
        """Return the ids of all loaded templates."""
        return {template_id for template_id, _ in self._templates}

    def with_template(self, template: PromptTemplate) -> PromptRegistry:
        """Return a registry that also holds the given template."""
        return PromptRegistry([*self._templates.values(), template])
