"""Recognise the format of submitted bytes and decode text safely."""

from __future__ import annotations

import codecs
from pathlib import PurePath

from steward_ingestion._models import DocumentFormat

_EXTENSIONS = {
    ".md": DocumentFormat.MARKDOWN,
    ".markdown": DocumentFormat.MARKDOWN,
    ".html": DocumentFormat.HTML,
    ".htm": DocumentFormat.HTML,
    ".txt": DocumentFormat.TEXT,
    ".text": DocumentFormat.TEXT,
    ".pdf": DocumentFormat.PDF,
}
_MEDIA_TYPES = {
    "text/markdown": DocumentFormat.MARKDOWN,
    "text/x-markdown": DocumentFormat.MARKDOWN,
    "text/html": DocumentFormat.HTML,
    "application/xhtml+xml": DocumentFormat.HTML,
    "text/plain": DocumentFormat.TEXT,
    "application/pdf": DocumentFormat.PDF,
}
_PDF_MAGIC = b"%PDF-"
# Text files hold almost no C0 control bytes besides tab, newline and carriage return.
_TEXT_CONTROLS = frozenset(b"\t\n\r\x0c")
_BINARY_CONTROL_SHARE = 0.05
_SNIFF_BYTES = 8192


class UnsupportedFormatError(ValueError):
    """The declared media type or file name names a format ingestion cannot parse."""


class UndecodableTextError(ValueError):
    """The bytes are not valid in the declared or assumed text encoding."""


def looks_binary(data: bytes) -> bool:
    """Tell whether bytes look like a binary file rather than text."""
    head = data[:_SNIFF_BYTES]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    if b"\x00" in head:
        return True
    controls = sum(1 for byte in head if byte < 0x20 and byte not in _TEXT_CONTROLS)
    return controls > len(head) * _BINARY_CONTROL_SHARE


def recognise_format(
    data: bytes,
    *,
    media_type: str | None,
    filename: str | None,
) -> DocumentFormat:
    """Decide the document format from the media type, else the file name, else the bytes."""
    if media_type:
        essence = media_type.split(";")[0].strip().lower()
        if essence not in _MEDIA_TYPES:
            raise UnsupportedFormatError(
                f"media type {media_type!r} is not supported; expected one of "
                f"{', '.join(sorted(_MEDIA_TYPES))}"
            )
        return _MEDIA_TYPES[essence]

    if filename:
        suffix = PurePath(filename).suffix.lower()
        if suffix in _EXTENSIONS:
            return _EXTENSIONS[suffix]
        if suffix:
            raise UnsupportedFormatError(
                f"file {filename!r} has extension {suffix!r}; expected one of "
                f"{', '.join(sorted(_EXTENSIONS))}"
            )

    # Without a declared type, sniff the first bytes.
    if data.startswith(_PDF_MAGIC):
        return DocumentFormat.PDF
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return DocumentFormat.HTML
    if head.startswith(b"---\n") or head.startswith(b"# "):
        return DocumentFormat.MARKDOWN
    return DocumentFormat.TEXT


def decode_text(data: bytes, charset: str | None) -> str:
    """Decode bytes as the declared charset, else UTF-8 or BOM-marked UTF-16."""
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError as error:
            raise UndecodableTextError(f"charset {charset!r} is not a known encoding") from error
        encoding = charset
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"

    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        # LIMITATION: legacy encodings are not guessed; a sender must declare the charset.
        raise UndecodableTextError(
            f"bytes {error.start}-{error.end} are not valid {encoding}; "
            "expected UTF-8 text or a declared charset"
        ) from error
