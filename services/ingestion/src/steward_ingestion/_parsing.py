"""Parsers that turn each source format into headings, paragraphs and tables."""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import yaml
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from steward_ingestion._normalising import collapse_spaces, normalise_text


@dataclass(frozen=True)
class Heading:
    """A heading that opens a section at the given depth."""

    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    """A run of prose or list lines, possibly several lines long."""

    text: str


@dataclass(frozen=True)
class Table:
    """A table whose first row holds the column headers."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Element = Heading | Paragraph | Table


@dataclass
class ParsedDocument:
    """The structural elements of a document and the metadata it declared about itself."""

    elements: list[Element] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)
    title: str | None = None


class CorruptPdfError(ValueError):
    """The bytes claim to be a PDF but pypdf cannot read them."""


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*(?:\n|\Z)", re.DOTALL)
_ATX_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_RULE = re.compile(r"^(?:-{3,}|\*{3,}|_{3,})$")
_TABLE_DIVIDER = re.compile(r"^\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?$")
_FENCE = re.compile(r"^(```|~~~)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\((?:[^()]|\([^)]*\))*\)")
_AUTOLINK = re.compile(r"<(https?://[^>]+)>")
_LIST_BREAK_TAGS = re.compile(r"<\s*(?:br|/li|/p|/div|/tr)\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]+>")
_STRONG = re.compile(r"(\*\*|__)(.+?)\1")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_CODE = re.compile(r"`([^`]*)`")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
_SEPARATOR_RUN = re.compile(r"\s*;(?:\s*;)*\s*")
_LABEL_SEPARATOR = re.compile(r"([:,])(?:; )")


def clean_inline(text: str, *, separator: str = " ") -> str:
    """Strip Markdown and HTML inline markup, keeping the words a reader sees."""
    # Line breaks and list items inside one cell or line become a visible separator.
    text = _LIST_BREAK_TAGS.sub(separator, text)

    text = _TAG.sub(" ", text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)

    return collapse_spaces(html.unescape(text).replace("\\|", "|"))


def _split_table_row(line: str) -> tuple[str, ...]:
    """Return the cleaned cells of one Markdown table row."""
    line = line.strip()
    if line.startswith("|"):
        line = line[1:]
    if line.endswith("|") and not line.endswith("\\|"):
        line = line[:-1]
    cells = [clean_inline(cell, separator="; ") for cell in _UNESCAPED_PIPE.split(line)]

    # Break tags often sit next to punctuation; keep one separator and no stray spaces.
    cells = [_LABEL_SEPARATOR.sub(r"\1 ", _SEPARATOR_RUN.sub("; ", cell)) for cell in cells]
    return tuple(cell.strip(" ;") for cell in cells)


def _read_front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split YAML front matter from a Markdown body, returning both."""
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text

    try:
        loaded = yaml.safe_load(match.group(1))
    except yaml.YAMLError:
        # Text that merely starts with a rule is body text, not broken metadata.
        return {}, text
    if not isinstance(loaded, dict):
        return {}, text

    metadata = {str(key): str(value) for key, value in loaded.items() if value is not None}
    return metadata, text[match.end() :]


def parse_markdown(text: str) -> ParsedDocument:
    """Parse Markdown with optional YAML front matter into structural elements."""
    metadata, body = _read_front_matter(normalise_text(text))
    document = ParsedDocument(metadata=metadata, title=metadata.get("title"))
    lines = body.split("\n")
    prose: list[str] = []

    def flush_prose() -> None:
        if prose:
            document.elements.append(Paragraph("\n".join(prose)))
            prose.clear()

    index = 0
    while index < len(lines):
        line = lines[index].strip()

        # Fenced code is kept verbatim so a '#' inside it never opens a section.
        if _FENCE.match(line):
            flush_prose()
            fence = line[:3]
            index += 1
            code: list[str] = []
            while index < len(lines) and not lines[index].strip().startswith(fence):
                code.append(lines[index])
                index += 1
            if code:
                document.elements.append(Paragraph("\n".join(code)))
            index += 1
            continue

        heading = _ATX_HEADING.match(line)
        if heading is not None:
            flush_prose()
            heading_text = clean_inline(heading.group(2))
            if heading_text:
                document.elements.append(Heading(len(heading.group(1)), heading_text))
            index += 1
            continue

        # A run of pipe-led lines followed by a divider row is a table.
        is_table = line.startswith("|") and index + 1 < len(lines)
        if is_table and _TABLE_DIVIDER.match(lines[index + 1].strip()):
            flush_prose()
            header = _split_table_row(line)
            index += 2
            rows: list[tuple[str, ...]] = []
            while index < len(lines) and lines[index].strip().startswith("|"):
                rows.append(_split_table_row(lines[index]))
                index += 1
            document.elements.append(Table(header, tuple(rows)))
            continue

        if not line or _RULE.match(line):
            flush_prose()
        else:
            cleaned = clean_inline(line)
            if cleaned:
                prose.append(cleaned)
        index += 1

    flush_prose()
    return document


def parse_text(text: str) -> ParsedDocument:
    """Parse plain text into paragraphs separated by blank lines."""
    document = ParsedDocument()
    for block in normalise_text(text).split("\n\n"):
        if block.strip():
            document.elements.append(Paragraph(block.strip()))
    return document


_SKIPPED_HTML = {"script", "style", "nav", "header", "footer", "noscript", "template", "svg"}
_BLOCK_HTML = {
    "p", "div", "section", "article", "main", "blockquote", "pre", "dd", "dt", "ul", "ol",
    "li", "br", "hr", "figure", "figcaption", "aside", "address", "details", "summary",
}  # fmt: skip
_HEADING_HTML = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}


class _HtmlStructureReader(HTMLParser):
    """Collect headings, paragraphs and tables from an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.document = ParsedDocument()
        self._text: list[str] = []
        self._skip_depth = 0
        self._heading_level: int | None = None
        self._in_title = False
        self._title: list[str] = []
        self._table_depth = 0
        self._rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._header_row = False

    def _flush_text(self) -> None:
        text = collapse_spaces("".join(self._text))
        self._text.clear()
        if not text:
            return
        if self._heading_level is not None:
            self.document.elements.append(Heading(self._heading_level, text))
        else:
            self.document.elements.append(Paragraph(text))

    def _flush_table(self) -> None:
        rows = [tuple(collapse_spaces(cell).strip(" ;") for cell in row) for row in self._rows]
        self._rows = []
        rows = [row for row in rows if any(row)]
        if rows:
            self.document.elements.append(Table(rows[0], tuple(rows[1:])))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_HTML:
            self._skip_depth += 1
            return
        if tag == "title":
            self._in_title = True
            return

        if self._table_depth > 0:
            self._start_in_table(tag)
            return
        if tag == "table":
            self._flush_text()
            self._table_depth = 1
            return

        if tag in _HEADING_HTML:
            self._flush_text()
            self._heading_level = _HEADING_HTML[tag]
        elif tag in _BLOCK_HTML:
            self._flush_text()
            if tag == "li":
                self._text.append("- ")

    def _start_in_table(self, tag: str) -> None:
        """Track rows and cells; nested tables flatten into the enclosing cell."""
        if tag == "table":
            self._table_depth += 1
        elif self._table_depth == 1 and tag == "tr":
            self._rows.append([])
        elif self._table_depth == 1 and tag in {"td", "th"}:
            if not self._rows:
                self._rows.append([])
            self._cell = []
            self._rows[-1].append("")
        elif self._cell is not None and tag in {"br", "li", "p", "div"}:
            self._cell.append("; ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_HTML:
            self._skip_depth = max(0, self._skip_depth - 1)
            return
        if tag == "title":
            self._in_title = False
            return

        if self._table_depth > 0:
            if tag == "table":
                self._table_depth -= 1
                if self._table_depth == 0:
                    self._flush_table()
            elif self._table_depth == 1 and tag in {"td", "th"} and self._cell is not None:
                self._rows[-1][-1] = "".join(self._cell)
                self._cell = None
            return

        if tag in _HEADING_HTML:
            self._flush_text()
            self._heading_level = None
        elif tag in _BLOCK_HTML:
            self._flush_text()

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._in_title:
            self._title.append(data)
        elif self._cell is not None:
            self._cell.append(data)
        elif self._table_depth == 0:
            self._text.append(data)

    def finish(self) -> ParsedDocument:
        """Flush what is still open and return the parsed document."""
        self.close()
        self._flush_text()
        if self._table_depth:
            self._flush_table()
        title = collapse_spaces("".join(self._title))
        self.document.title = title or None
        return self.document


def parse_html(text: str) -> ParsedDocument:
    """Parse an HTML page into structural elements, dropping scripts and site chrome."""
    reader = _HtmlStructureReader()
    reader.feed(normalise_text(text))
    return reader.finish()


# pypdf reports damaged files through its own errors and, deeper in its object
# parser, through plain built-in ones; all of them mean the file cannot be read.
_PDF_FAILURES = (PyPdfError, ValueError, KeyError, IndexError, TypeError, AttributeError,
                 OSError, RecursionError, AssertionError)  # fmt: skip


def parse_pdf(data: bytes) -> ParsedDocument:
    """Extract the text of a PDF page by page, each page its own section."""
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorruptPdfError("the PDF is encrypted with a password; expected an open PDF")
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata
        title = info.title if info is not None else None
    except CorruptPdfError:
        raise
    except _PDF_FAILURES as error:
        raise CorruptPdfError(f"pypdf could not read the PDF: {error}") from error

    document = ParsedDocument(title=collapse_spaces(title) if title else None)
    for number, page_text in enumerate(pages, start=1):
        # LIMITATION: PDF headings are not recognised, so a page is the finest section.
        blocks = [block for block in normalise_text(page_text).split("\n\n") if block.strip()]
        if blocks:
            document.elements.append(Heading(1, f"Page {number}"))
            document.elements.extend(Paragraph(block) for block in blocks)
    return document
