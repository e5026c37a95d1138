"""The compose file and the Kubernetes Deployments run the code's services with their settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from deploy_kit import (
    AWAITING_ENTRY_POINT,
    ROOT,
    SERVICE_REQUIRED,
    compose_environment,
    compose_steward_services,
    deployed_services,
    entry_point_services,
    interpolated,
    k8s_environment,
    k8s_steward_deployments,
    missing_settings,
    settings_classes,
    settings_of,
    unknown_variables,
)

if TYPE_CHECKING:
    from collections.abc import Callable

SERVICES = sorted(entry_point_services())
PLACEHOLDER = "x" * 64


def environments() -> dict[str, Callable[[str], dict[str, str | None]]]:
    """Each deployment's reader of the environment a service runs with."""
    return {
        "compose": lambda name: compose_environment(compose_steward_services()[name]),
        "kubernetes": lambda name: k8s_environment(k8s_steward_deployments()[name]),
    }


def test_awaiting_services_have_no_entry_point_yet() -> None:
    stale = AWAITING_ENTRY_POINT & set(entry_point_services())
    assert not stale, (
        f"{sorted(stale)} now declare a steward.services entry point: remove them from "
        "AWAITING_ENTRY_POINT in tests/deploy/deploy_kit.py so their settings are checked"
    )


def test_every_service_has_a_settings_table_entry() -> None:
    assert set(SERVICE_REQUIRED) >= deployed_services()


def test_compose_runs_the_services_of_the_code() -> None:
    assert set(compose_steward_services()) == deployed_services()


def test_kubernetes_deploys_the_services_of_the_code() -> None:
    assert set(k8s_steward_deployments()) == deployed_services()


def test_every_service_has_an_image() -> None:
    missing = [
        name for name in deployed_services() if not (ROOT / f"services/{name}/Dockerfile").exists()
    ]
    assert not missing


@pytest.mark.parametrize("service", SERVICES)
def test_required_settings_name_real_fields(service: str) -> None:
    classes = settings_classes(entry_point_services()[service])
    assert classes, f"no settings class found in {entry_point_services()[service]}"
    fields = {setting.field for cls in classes for setting in settings_of(cls)}
    assert set(SERVICE_REQUIRED[service]) <= fields


@pytest.mark.parametrize("deployment", ["compose", "kubernetes"])
@pytest.mark.parametrize("service", SERVICES)
def test_required_settings_are_provided(deployment: str, service: str) -> None:
    environment = environments()[deployment](service)
    assert missing_settings(service, environment) == []
    assert environment.get("STEWARD_PROFILE") == "kafka"


@pytest.mark.parametrize("deployment", ["compose", "kubernetes"])
@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_names_a_setting(deployment: str, service: str) -> None:
    assert unknown_variables(service, environments()[deployment](service)) == []


@pytest.mark.parametrize("deployment", ["compose", "kubernetes"])
@pytest.mark.parametrize("service", SERVICES)
def test_settings_load_from_the_provided_environment(
    deployment: str, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("STEWARD_"):
            monkeypatch.delenv(name)
    for name, value in environments()[deployment](service).items():
        if name.startswith("STEWARD_"):
            monkeypatch.setenv(name, interpolated(value, PLACEHOLDER))

    for cls in settings_classes(entry_point_services()[service]):
        settings = cls()
        assert getattr(settings, "profile", "kafka") == "kafka"


def test_a_missing_setting_is_reported() -> None:
    service = SERVICES[0]
    environment = environments()["compose"](service)
    environment.pop("STEWARD_KAFKA_BOOTSTRAP")
    assert "STEWARD_KAFKA_BOOTSTRAP" in missing_settings(service, environment)


def test_a_misspelt_variable_is_reported() -> None:
    service = SERVICES[0]
    environment = environments()["kubernetes"](service) | {"STEWARD_KAFKA_BOOTSTRAPS": "x"}
    assert unknown_variables(service, environment) == ["STEWARD_KAFKA_BOOTSTRAPS"]
