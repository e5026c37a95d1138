"""A trained PEFT adapter turned into a GGUF LoRA adapter that llama.cpp loads at start."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from steward_trainer.errors import (
    AdapterConversionFailed,
    AdapterConverterMissing,
    UnservableAdapterName,
)
from steward_trainer.training import MANIFEST_FILE

if TYPE_CHECKING:
    from steward_trainer.training import TrainedAdapter

# The converter ships inside this source archive of llama-cpp-python, with the gguf-py it needs.
LLAMA_CPP_PYTHON_VERSION = "0.3.36"
LORA_CONVERTER = Path(
    f".steward/tools/llama_cpp_python-{LLAMA_CPP_PYTHON_VERSION}/vendor/llama.cpp"
    "/convert_lora_to_gguf.py"
)
INSTALL_TARGET = "make trainer-tools"
ADAPTER_SUFFIX = ".gguf"

# The inference worker finds an adapter as <folder>/<name>.gguf and accepts only such names.
_SERVABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class GgufAdapter:
    """A GGUF adapter file in the serving folder, under the name requests use."""

    name: str
    path: Path
    sha256: str


def check_convertible(name: str, converter: Path) -> None:
    """Fail before training when the adapter could not be converted or served by `name`."""
    if not _SERVABLE_NAME.fullmatch(name):
        raise UnservableAdapterName(
            f"Candidate name {name!r} cannot name a GGUF adapter file; expected letters, "
            "digits, '.', '_' or '-' (at most 128)"
        )
    if not converter.is_file():
        raise AdapterConverterMissing(
            f"llama.cpp's LoRA converter is missing at {converter}; `{INSTALL_TARGET}` "
            f"installs it (llama-cpp-python {LLAMA_CPP_PYTHON_VERSION} source archive)"
        )


def convert_to_gguf(
    adapter: TrainedAdapter,
    *,
    name: str,
    base_model: Path,
    converter: Path,
    adapter_dir: Path,
) -> GgufAdapter:
    """Convert `adapter` into `<adapter_dir>/<name>.gguf` and record its hash in the manifest."""
    check_convertible(name, converter)
    adapter_dir.mkdir(parents=True, exist_ok=True)
    target = adapter_dir / f"{name}{ADAPTER_SUFFIX}"
    scratch = adapter_dir / f".{name}.{os.getpid()}{ADAPTER_SUFFIX}"

    # The script puts its own gguf-py first on the path unless NO_LOCAL_GGUF is set; the
    # PyPI gguf in this environment is a different version.
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("NO_LOCAL_GGUF", None)
    command = [
        sys.executable,
        str(converter),
        "--base",
        str(base_model),
        "--outtype",
        "f32",
        "--outfile",
        str(scratch),
        str(adapter.path),
    ]
    # The command is this interpreter and paths from the settings; no shell, no event text.
    completed = subprocess.run(  # noqa: S603
        command, env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0 or not scratch.is_file():
        scratch.unlink(missing_ok=True)
        tail = " | ".join(completed.stderr.strip().splitlines()[-3:])
        raise AdapterConversionFailed(
            f"Converting adapter {adapter.path} to GGUF exited {completed.returncode}: {tail}"
        )

    # Renamed into place whole, so the inference worker never loads half a file.
    digest = _sha256(scratch)
    os.replace(scratch, target)
    _record(adapter.path / MANIFEST_FILE, target, digest)
    return GgufAdapter(name=name, path=target, sha256=digest)


def _record(manifest_path: Path, target: Path, digest: str) -> None:
    manifest = json.loads(manifest_path.read_text())
    manifest["gguf_adapter"] = {
        "path": str(target),
        "sha256": digest,
        "converter": f"llama-cpp-python=={LLAMA_CPP_PYTHON_VERSION} convert_lora_to_gguf.py",
    }
    manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
