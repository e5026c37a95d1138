"""LoRA adapters in GGUF form, found by name in one folder that the trainer writes to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from steward_inference._errors import AdapterNotFoundError

ADAPTER_SUFFIX = ".gguf"

# The names candidates get; nothing that could climb out of the folder.
_ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class AdapterFile:
    """One adapter file and what tells a rewritten file from the one loaded before."""

    name: str
    path: Path
    stamp: tuple[int, int, int]


class AdapterShelf:
    """Resolves adapter names to `<folder>/<name>.gguf`, refusing names it does not hold."""

    def __init__(self, folder: Path | None, *, model: str) -> None:
        self.folder = folder
        self.model = model

    def find(self, name: str) -> AdapterFile:
        """Return the adapter file named `name`, or raise AdapterNotFoundError naming it."""
        if self.folder is None:
            raise AdapterNotFoundError(
                f"Adapter {name!r} was asked of model {self.model!r}, but no adapter folder "
                "is configured (STEWARD_INFERENCE_ADAPTER_DIR)",
                adapter=name,
                model=self.model,
            )
        if not _ADAPTER_NAME.fullmatch(name):
            raise AdapterNotFoundError(
                f"Adapter name {name!r} is not a valid adapter name; expected letters, digits, "
                "'.', '_' or '-' (at most 128)",
                adapter=name,
                model=self.model,
            )

        path = self.folder / f"{name}{ADAPTER_SUFFIX}"
        try:
            status = path.stat()
        except FileNotFoundError:
            raise AdapterNotFoundError(
                f"Adapter {name!r} is not in {self.folder}: expected the file {path.name}; "
                f"adapters there: {self.names()[:10]}",
                adapter=name,
                model=self.model,
            ) from None
        return AdapterFile(name, path, (status.st_ino, status.st_size, status.st_mtime_ns))

    def names(self) -> list[str]:
        """Return the adapter names the folder holds, sorted."""
        if self.folder is None or not self.folder.is_dir():
            return []
        files = self.folder.glob(f"*{ADAPTER_SUFFIX}")
        return sorted(path.name.removesuffix(ADAPTER_SUFFIX) for path in files)
