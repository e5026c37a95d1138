"""Readers of the deployment files and of the code they must match, for tests/deploy."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import shlex
import tomllib
from dataclasses import dataclass, field
from fnmatch import fnmatch
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.33"

# Services whose images and manifests land before their bus wiring: they are deployed but
# have no `steward.services` entry point in this checkout yet. An entry here fails the checks
# as soon as the service gains its entry point, so its settings are then checked too.
AWAITING_ENTRY_POINT: frozenset[str] = frozenset()

# Settings with defaults that the kafka profile refuses to run without, or that a container
# needs (servers must listen beyond loopback; paths that default into the source tree).
BUS_REQUIRED = ("profile", "kafka_bootstrap", "database_url", "otel_exporter", "otel_endpoint")
SERVICE_REQUIRED: dict[str, tuple[str, ...]] = {
    "gateway": ("gateway_auth", "gateway_pseudonym_key", "gateway_host"),
    "guardrail": ("guardrail_pii_key", "guardrail_policy_dir"),
    "indexer": (),
    "inference": (),
    "ingestion": (),
    "ledger": ("ledger_writer_url", "ledger_signing_key_path", "ledger_auth", "ledger_api_host"),
    "review": ("review_auth", "review_pseudonym_secret", "review_http_host"),
    "trainer": ("trainer_golden_set", "trainer_policy_dir", "trainer_metrics_host"),
}

# A value that only a secret may carry: an environment name ending like this.
SECRET_NAME = re.compile(r"(KEY|SECRET|PASSWORD|TOKEN|DATABASE_URL|LEDGER_[A-Z]+_URL)$")
# A DSN or URL with a password in it.
CREDENTIALS_IN_URL = re.compile(r"://[^/\s:@]+:[^/\s@]+@")
SECRET = None  # the value of a setting that comes from a secret: unknown here


# ---- the code --------------------------------------------------------------------------------


def entry_point_services() -> dict[str, str]:
    """The `steward.services` entry points declared in services/*/pyproject.toml."""
    services: dict[str, str] = {}
    for pyproject in sorted(ROOT.glob("services/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        services.update(project.get("entry-points", {}).get("steward.services", {}))
    return services


def deployed_services() -> set[str]:
    """What the deployment must run: the code's services and those awaiting their wiring."""
    return set(entry_point_services()) | AWAITING_ENTRY_POINT


def settings_classes(module: str) -> list[type[BaseSettings]]:
    """The settings classes defined in a service's `settings` and `app` modules."""
    classes: dict[str, type[BaseSettings]] = {}
    for name in (f"{module}.settings", f"{module}.app"):
        if importlib.util.find_spec(name) is None:
            continue
        for _, value in inspect.getmembers(importlib.import_module(name), inspect.isclass):
            if issubclass(value, BaseSettings) and value.__module__.startswith(module):
                classes[value.__qualname__] = value
    return list(classes.values())


@dataclass(frozen=True)
class Setting:
    """One field of a settings class and the environment names that set it."""

    owner: str
    field: str
    env_name: str
    nested_delimiter: str | None
    required: bool

    def given_by(self, environment: dict[str, str | None]) -> bool:
        """Whether an environment sets this field, whole or through nested names."""
        names = {name.upper() for name in environment}
        if self.env_name in names:
            return True
        prefix = f"{self.env_name}{self.nested_delimiter}" if self.nested_delimiter else None
        return prefix is not None and any(name.startswith(prefix) for name in names)


def settings_of(cls: type[BaseSettings]) -> list[Setting]:
    """Every field of a settings class, with its environment name."""
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    delimiter = cls.model_config.get("env_nested_delimiter")
    return [
        Setting(cls.__qualname__, name, prefix + name.upper(), delimiter, info.is_required())
        for name, info in cls.model_fields.items()
    ]


def required_settings(service: str, classes: list[type[BaseSettings]]) -> list[Setting]:
    """Settings a deployment of `service` must give: no default, or needed in production."""
    needed = set(BUS_REQUIRED) | set(SERVICE_REQUIRED.get(service, ()))
    return [
        setting
        for cls in classes
        for setting in settings_of(cls)
        if setting.required or setting.field in needed
    ]


def missing_settings(service: str, environment: dict[str, str | None]) -> list[str]:
    """The environment names of required settings that an environment does not give."""
    classes = settings_classes(entry_point_services()[service])
    return sorted(
        setting.env_name
        for setting in required_settings(service, classes)
        if not setting.given_by(environment)
    )


def unknown_variables(service: str, environment: dict[str, str | None]) -> list[str]:
    """STEWARD_ variables given to a service that name no field of its settings classes."""
    classes = settings_classes(entry_point_services()[service])
    settings = [setting for cls in classes for setting in settings_of(cls)]
    return sorted(
        name
        for name in environment
        if name.startswith("STEWARD_") and not any(s.given_by({name: None}) for s in settings)
    )


# ---- docker-compose.yml ------------------------------------------------------------------------


@cache
def compose() -> dict[str, Any]:
    """The compose file, merge keys resolved."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return document


def compose_steward_services() -> dict[str, dict[str, Any]]:
    """Compose services built from a service folder's Dockerfile, by service name."""
    found = {}
    for name, service in compose()["services"].items():
        dockerfile = (service.get("build") or {}).get("dockerfile", "")
        if dockerfile.startswith("services/"):
            found[dockerfile.split("/")[1]] = service | {"_compose_name": name}
    return found


def compose_environment(service: dict[str, Any]) -> dict[str, str | None]:
    """What a compose service's process sees: its image's ENV, environment and secrets."""
    environment: dict[str, str | None] = dict(dockerfile_env(service["build"]["dockerfile"]))
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.split("=", 1) if "=" in item else (item, None) for item in given)
    environment.update({name: None if v is None else str(v) for name, v in given.items()})

    # A secret mounted under a setting's name becomes that setting (deploy/images/entrypoint.sh).
    for secret in service.get("secrets") or []:
        target = secret if isinstance(secret, str) else secret.get("target", secret["source"])
        if target.startswith("STEWARD_"):
            environment[target] = SECRET
    return environment


def interpolated(value: str | None, placeholder: str) -> str:
    """A compose value with ${VAR:-default} as its default and other references as given."""
    if value is None:
        return placeholder
    value = re.sub(r"\$\{[A-Z0-9_]+:?-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[^}]*\}", placeholder, value)


# ---- Kubernetes ------------------------------------------------------------------------------


@cache
def k8s_documents() -> tuple[tuple[Path, dict[str, Any]], ...]:
    """Every YAML document under deploy/k8s with the file it came from."""
    found = []
    for path in sorted(K8S.rglob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if document is not None:
                found.append((path, document))
    return tuple(found)


def k8s_kind(kind: str) -> dict[str, dict[str, Any]]:
    """The documents of one kind, by name."""
    return {
        d["metadata"]["name"]: d
        for _, d in k8s_documents()
        if d["kind"] == kind and "metadata" in d
    }


def k8s_steward_deployments() -> dict[str, dict[str, Any]]:
    """Deployments of Steward services (edges and consumers), by name."""
    return {
        name: d
        for name, d in k8s_kind("Deployment").items()
        if d["metadata"]["labels"].get("app.kubernetes.io/component") in {"edge", "consumer"}
    }


def k8s_environment(deployment: dict[str, Any]) -> dict[str, str | None]:
    """What a Deployment's container sees: image ENV, config maps, env and secret references."""
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    image = container["image"].split(":")[0].removeprefix("steward/")
    environment: dict[str, str | None] = dict(dockerfile_env(f"services/{image}/Dockerfile"))
    config_maps = k8s_kind("ConfigMap")
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        environment.update(config_maps[name]["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            environment[variable["name"]] = variable["value"]
            continue
        reference = variable["valueFrom"].get("configMapKeyRef")
        known = config_maps.get(reference["name"], {}).get("data", {}) if reference else {}
        environment[variable["name"]] = known.get(reference["key"]) if reference else SECRET
    return environment


# ---- Dockerfiles -----------------------------------------------------------------------------


@dataclass
class Stage:
    """One FROM ... stage of a Dockerfile and its instructions."""

    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)


def dockerfile_stages(path: Path) -> list[Stage]:
    """The stages of a Dockerfile, continuation lines joined and comments dropped."""
    logical, current = [], ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""

    stages: list[Stage] = []
    for line in logical:
        keyword, _, arguments = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = arguments.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append(Stage(words[0], name))
        elif stages:
            stages[-1].instructions.append((keyword, arguments.strip()))
    return stages


def copy_sources(arguments: str) -> list[str] | None:
    """The build-context sources of a COPY, or None when it copies from another stage."""
    words = shlex.split(arguments)
    if any(word.startswith("--from") for word in words):
        return None
    paths = [word for word in words if not word.startswith("--")]
    return paths[:-1]


@cache
def dockerfile_env(relative: str) -> dict[str, str]:
    """The ENV of a Dockerfile's last stage (PATH and the like included)."""
    path = ROOT / relative
    if not path.exists():
        return {}
    environment = {}
    for keyword, arguments in dockerfile_stages(path)[-1].instructions:
        if keyword == "ENV":
            for pair in shlex.split(arguments):
                name, _, value = pair.partition("=")
                environment[name] = value
    return environment


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether a .dockerignore excludes a path (the last matching pattern wins)."""
    excluded = False
    parts = path.split("/")
    for pattern in patterns:
        negated = pattern.startswith("!")
        glob = pattern.removeprefix("!").rstrip("/")
        # A pattern that matches a folder covers everything beneath it.
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch(prefix, glob) for prefix in prefixes):
            excluded = not negated
    return excluded


def ignore_patterns(path: Path) -> list[str]:
    """The patterns of a .dockerignore file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def local_dependencies(folder: Path) -> set[str]:
    """Steward packages a library or service needs, transitively, as repository folders."""
    by_name = {
        tomllib.loads(p.read_text(encoding="utf-8"))["project"]["name"]: p.parent
        for p in [*ROOT.glob("libs/*/pyproject.toml"), *ROOT.glob("services/*/pyproject.toml")]
    }
    seen: set[str] = set()
    pending = [folder]
    while pending:
        project = tomllib.loads((pending.pop() / "pyproject.toml").read_text(encoding="utf-8"))
        for requirement in project["project"].get("dependencies", []):
            name = re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0]
            if name in by_name and name not in seen:
                seen.add(name)
                pending.append(by_name[name])
    return {str(by_name[name].relative_to(ROOT)) for name in seen}


def third_party_dependencies(folder: Path) -> set[str]:
    """Third-party requirement names of a package and of the Steward packages it needs."""
    names = set()
    for package in [folder, *(ROOT / p for p in local_dependencies(folder))]:
        project = tomllib.loads((package / "pyproject.toml").read_text(encoding="utf-8"))
        for requirement in project["project"].get("dependencies", []):
            names.add(re.split(r"[\s<>=!~\[;]", requirement, maxsplit=1)[0].lower())
    return names
