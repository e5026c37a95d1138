"""docker-compose.yml is a valid Compose file that keeps secrets out and wires telemetry."""

from __future__ import annotations

import json
import re
from importlib.resources import files

import jsonschema
import pytest
import yaml
from deploy_kit import (
    CREDENTIALS_IN_URL,
    ROOT,
    SECRET_NAME,
    compose,
    compose_steward_services,
)


def test_compose_file_matches_the_compose_specification() -> None:
    # The Compose Specification's JSON Schema, as vendored by check-jsonschema.
    vendored = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(compose())]
    assert errors == []


def test_the_schema_check_catches_a_mistake() -> None:
    vendored = files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(vendored.read_text(encoding="utf-8"))
    broken = compose() | {"services": {"kafka": {"image": "x", "restart_policy": "always"}}}
    assert not jsonschema.validators.validator_for(schema)(schema).is_valid(broken)


@pytest.mark.parametrize("name", sorted(compose()["services"]))
def test_no_literal_secret(name: str) -> None:
    environment = compose()["services"][name].get("environment") or {}
    for variable, value in environment.items():
        text = str(value)
        assert not CREDENTIALS_IN_URL.search(text), f"{variable} holds credentials"
        if SECRET_NAME.search(variable) and not variable.endswith(("_PATH", "_FILE")):
            assert text.startswith("${"), f"{variable} must come from a secret or the environment"


def test_secret_files_stay_out_of_git() -> None:
    for name, secret in compose()["secrets"].items():
        path = (ROOT / secret["file"]).resolve()
        assert path.parent == ROOT / "deploy" / "secrets", name
    assert (ROOT / "deploy/secrets/.gitignore").read_text(encoding="utf-8").split()[0] == "*"


def test_published_ports_bind_loopback() -> None:
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name} publishes {port}"


def test_vllm_runs_in_the_gpu_profile_and_inference_defaults_to_the_cpu() -> None:
    services = compose()["services"]
    assert services["vllm"]["profiles"] == ["gpu"]
    devices = services["vllm"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["capabilities"] == ["gpu"]
    inference = services["inference"]
    assert "profiles" not in inference
    assert inference["environment"]["STEWARD_INFERENCE_BACKEND"].endswith(":-embedded}")
    assert inference["depends_on"]["vllm"]["required"] is False


def test_infrastructure_is_present() -> None:
    images = {s.get("image", "").split(":")[0] for s in compose()["services"].values()}
    assert {
        "apache/kafka",
        "postgres",
        "qdrant/qdrant",
        "otel/opentelemetry-collector-contrib",
        "jaegertracing/all-in-one",
        "prom/prometheus",
        "grafana/grafana",
    } <= images
    kafka = compose()["services"]["kafka"]["environment"]
    assert "controller" in kafka["KAFKA_PROCESS_ROLES"]


@pytest.mark.parametrize("name", sorted(compose()["services"]))
def test_mounted_files_exist(name: str) -> None:
    for volume in compose()["services"][name].get("volumes", []):
        source = volume.split(":")[0]
        if source.startswith("./"):
            assert (ROOT / source).exists(), f"{name} mounts missing {source}"


def test_services_export_traces_to_the_collector() -> None:
    collector = yaml.safe_load((ROOT / "deploy/compose/otel-collector.yaml").read_text())
    assert "otlp" in collector["receivers"]
    assert "spanmetrics" in collector["service"]["pipelines"]["traces"]["exporters"]
    for name, service in compose_steward_services().items():
        endpoint = service["environment"]["STEWARD_OTEL_ENDPOINT"]
        assert endpoint == "http://otel-collector:4318/v1/traces", name


def test_dashboard_reads_figures_that_exist() -> None:
    dashboard = json.loads((ROOT / "deploy/compose/grafana/dashboards/steward.json").read_text())
    provisioned = yaml.safe_load(
        (ROOT / "deploy/compose/grafana/provisioning/datasources/datasources.yaml").read_text()
    )
    uids = {source["uid"] for source in provisioned["datasources"]}
    expressions = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert all(p["datasource"]["uid"] in uids for p in dashboard["panels"])

    # The trainer's figures must be gauges the trainer declares.
    source = "\n".join(
        path.read_text(encoding="utf-8") for path in ROOT.glob("services/trainer/src/**/*.py")
    )
    trainer_metrics = {m for e in expressions for m in re.findall(r"steward_trainer_\w+", e)}
    assert trainer_metrics
    assert {m for m in trainer_metrics if f'"{m}"' not in source} == set()

    # The span metrics' names follow the collector's namespace.
    collector = yaml.safe_load((ROOT / "deploy/compose/otel-collector.yaml").read_text())
    prefix = collector["connectors"]["spanmetrics"]["namespace"].replace(".", "_")
    assert any(prefix + "_calls_total" in e for e in expressions)


def test_prometheus_scrapes_the_trainer_where_it_listens() -> None:
    prometheus = yaml.safe_load((ROOT / "deploy/compose/prometheus.yml").read_text())
    targets = {
        t
        for job in prometheus["scrape_configs"]
        for c in job["static_configs"]
        for t in c["targets"]
    }
    port = compose()["services"]["trainer"]["environment"]["STEWARD_TRAINER_METRICS_PORT"]
    assert f"trainer:{port}" in targets
