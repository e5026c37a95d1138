"""A folder of requests accepted but not yet answered, so a restart can still answer them."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

if TYPE_CHECKING:
    from pathlib import Path

log = structlog.get_logger(__name__)

_KEY = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class JournalError(Exception):
    """A journal entry could not be written or read."""


@dataclass(frozen=True)
class JournalEntry:
    """One accepted request: its key, the bytes to redo it from, and how often it was tried."""

    key: str
    payload: str
    attempts: int


class DraftJournal:
    """Keeps one small file per request in flight; a file left behind means work unfinished.

    Files are replaced atomically, so a crash leaves either the old entry or the new one.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def record(self, key: str, payload: str, *, attempts: int = 0) -> None:
        """Remember a request before its work starts (or each time a retry of it starts)."""
        path = self._path(key)
        self.folder.mkdir(parents=True, exist_ok=True)

        # Write beside the target, then rename over it: readers never see half a file.
        # LIMITATION: no fsync, so the entry survives a process crash but not a power cut;
        # an fsync per request would lift that at a few milliseconds each.
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps({"attempts": attempts, "payload": payload}))
        os.replace(partial, path)

    def forget(self, key: str) -> None:
        """Drop a request whose answer was published."""
        self._path(key).unlink(missing_ok=True)

    def pending(self) -> list[JournalEntry]:
        """Every request recorded and not forgotten, oldest file first."""
        if not self.folder.is_dir():
            return []
        entries = []
        paths = sorted(self.folder.glob("*.json"), key=lambda path: path.stat().st_mtime)
        for path in paths:
            try:
                stored = json.loads(path.read_text())
                entries.append(
                    JournalEntry(
                        key=path.stem, payload=stored["payload"], attempts=stored["attempts"]
                    )
                )
            except (OSError, ValueError, KeyError, TypeError) as error:
                # One damaged file must not stop every later start: set it aside for a person.
                log.error("journal_entry_unreadable", path=str(path), error=str(error))
                os.replace(path, path.with_suffix(".unreadable"))
        return entries

    def _path(self, key: str) -> Path:
        if not _KEY.match(key):
            raise JournalError(f"Journal key {key!r} is not a safe file name")
        return self.folder / f"{key}.json"
