"""deploy/k8s passes schema validation and matches the event contract and the services."""

from __future__ import annotations

import importlib.util
import sys
from typing import TYPE_CHECKING, Any

import kubernetes_validate
import pytest
from cloudcoil.models.keda import v1alpha1 as keda
from deploy_kit import (
    K8S,
    KUBERNETES_VERSION,
    ROOT,
    k8s_documents,
    k8s_kind,
    k8s_steward_deployments,
)
from steward_bus import contract_topics

if TYPE_CHECKING:
    from pathlib import Path

DOCUMENTS = [(str(path.relative_to(ROOT)), document) for path, document in k8s_documents()]
EDGE_PORTS = {"gateway": 8080, "review": 8082, "ledger": 8083}
# Consumers that run one process by design: the ledger's writer lock, the trainer's runs.
SINGLETONS = {"ledger", "trainer"}
# Namespaces allowed in, besides the ingress controller's, and the pods and ports they reach.
OBSERVERS = {"monitoring": {("trainer", 9464)}}


def validate_strimzi(document: dict[str, Any]) -> None:
    """Check a Strimzi resource's shape against what this project relies on.

    LIMITATION: no package on PyPI carries Strimzi's CRD schemas, so these are checked by
    the fields Steward uses; Strimzi's CRDs turned into JSON Schema would lift this.
    """
    assert document["apiVersion"] == "kafka.strimzi.io/v1beta2"
    labels = document["metadata"].get("labels", {})
    spec = document["spec"]
    if document["kind"] == "KafkaTopic":
        assert labels["strimzi.io/cluster"] == "steward"
        assert set(spec) <= {"topicName", "partitions", "replicas", "config"}
        assert isinstance(spec["partitions"], int) and spec["partitions"] > 0
        assert all(isinstance(v, str | int | bool) for v in spec["config"].values())
    elif document["kind"] == "KafkaNodePool":
        assert labels["strimzi.io/cluster"] == "steward"
        assert set(spec["roles"]) <= {"broker", "controller"}
        assert spec["storage"]["type"] in {"jbod", "persistent-claim", "ephemeral"}
    elif document["kind"] == "Kafka":
        annotations = document["metadata"]["annotations"]
        assert annotations == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
        assert "zookeeper" not in spec
        assert {"version", "listeners", "config"} <= set(spec["kafka"])
    else:
        raise AssertionError(f"unexpected Strimzi kind {document['kind']}")


def validate_scaled_object(document: dict[str, Any]) -> None:
    """Validate a KEDA ScaledObject with KEDA's generated models; unknown fields fail too."""
    model = keda.ScaledObject.model_validate(document)
    assert model.model_dump(mode="json", by_alias=True, exclude_unset=True) == document


@pytest.mark.parametrize(
    ("path", "document"),
    DOCUMENTS,
    ids=[
        f"{path}:{doc['kind']}/{doc.get('metadata', {}).get('name', '')}"
        for path, doc in DOCUMENTS
    ],
)
def test_manifest_passes_schema_validation(path: str, document: dict[str, Any]) -> None:
    api_group = document["apiVersion"].split("/")[0]
    if api_group == "kafka.strimzi.io":
        validate_strimzi(document)
    elif api_group == "keda.sh":
        validate_scaled_object(document)
    elif document["kind"] == "Kustomization":
        resources = document["resources"]
        assert all((K8S / resource).exists() for resource in resources)
        listed = {str((K8S / r).resolve()) for r in resources}
        on_disk = {str(p.resolve()) for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml"}
        assert listed == on_disk
    else:
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validators_catch_mistakes() -> None:
    deployment = next(iter(k8s_steward_deployments().values()))
    broken = deployment | {"spec": deployment["spec"] | {"replica": 2}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    scaled = next(iter(k8s_kind("ScaledObject").values()))
    with pytest.raises(AssertionError):
        validate_scaled_object(scaled | {"spec": scaled["spec"] | {"maxReplicas": 3}})


def load_topic_generator():  # type: ignore[no-untyped-def]
    """deploy/k8s/generate_topics.py, loaded from its file."""
    spec = importlib.util.spec_from_file_location("generate_topics", K8S / "generate_topics.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Dataclasses look their module up by name while the module runs.
    sys.modules.setdefault("generate_topics", module)
    spec.loader.exec_module(module)
    return module


def topics() -> dict[str, dict[str, Any]]:
    """KafkaTopic specs by topic name."""
    return {d["spec"]["topicName"]: d["spec"] for d in k8s_kind("KafkaTopic").values()}


def test_topics_file_is_generated_from_the_contract() -> None:
    committed = (K8S / "kafka/topics.yaml").read_text(encoding="utf-8")
    assert committed == load_topic_generator().render(), "run deploy/k8s/generate_topics.py"
    # The live topics, and the replay namespace's twins that auditors' replays run in.
    assert set(topics()) == set(contract_topics()) | set(contract_topics("replay."))


def test_replay_topics_are_replicated_and_short_lived() -> None:
    for topic in contract_topics("replay."):
        spec = topics()[topic]
        assert spec["replicas"] == 3
        assert spec["config"]["min.insync.replicas"] == 2
        assert retention(spec) <= 7 * 24 * 3600 * 1000


def retention(spec: dict[str, Any]) -> float:
    """A topic's retention in ms, forever as infinity."""
    value = int(spec["config"]["retention.ms"])
    return float("inf") if value < 0 else value


@pytest.mark.parametrize("topic", contract_topics())
def test_topic_is_replicated_and_kept(topic: str) -> None:
    spec = topics()[topic]
    assert spec["replicas"] == 3
    assert spec["config"]["min.insync.replicas"] == 2
    # Every topic feeds the ledger: kept a replay window at least; dead letters longer.
    assert retention(spec) >= 30 * 24 * 3600 * 1000
    if topic.endswith(".dlq"):
        source = topics()[topic.removesuffix(".dlq")]
        assert retention(spec) > retention(source) or retention(source) == float("inf")
        assert spec["config"]["max.message.bytes"] >= source["config"]["max.message.bytes"]


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    """The pod template's spec."""
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("name", sorted(k8s_steward_deployments()))
def test_deployment_has_probes_resources_and_runs_unprivileged(name: str) -> None:
    spec = pod_spec(k8s_steward_deployments()[name])
    container = spec["containers"][0]
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["image"].startswith(f"steward/{name}:")


def test_each_scalable_consumer_group_scales_on_lag() -> None:
    scaled = k8s_kind("ScaledObject")
    deployments = k8s_steward_deployments()
    consumers = {n for n, d in deployments.items() if n not in SINGLETONS and n != "gateway"}
    assert set(scaled) == consumers

    for name, document in scaled.items():
        spec = document["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        partitions = []
        for trigger in spec["triggers"]:
            assert trigger["type"] == "kafka"
            assert trigger["metadata"]["consumerGroup"] == f"steward-{name}"
            partitions.append(topics()[trigger["metadata"]["topic"]]["partitions"])
        # Replicas past the partition count would sit idle.
        assert spec["maxReplicaCount"] <= min(partitions)
    assert "gateway" in k8s_kind("HorizontalPodAutoscaler")


@pytest.mark.parametrize("name", sorted(SINGLETONS))
def test_singletons_never_run_twice(name: str) -> None:
    deployment = k8s_steward_deployments()[name]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"]["type"] == "Recreate"


def test_vllm_runs_on_the_gpu_pool() -> None:
    spec = pod_spec(k8s_kind("Deployment")["vllm"])
    assert spec["nodeSelector"] == {"steward.io/node-pool": "gpu"}
    assert any(t["key"] == "nvidia.com/gpu" for t in spec["tolerations"])
    assert spec["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"


def reachable_from_outside(policy: dict[str, Any]) -> list[tuple[str, set[int], str]]:
    """(pod name, ports, source namespace) for each rule admitting traffic from outside."""
    selector = policy["spec"]["podSelector"].get("matchLabels", {})
    pod = selector.get("app.kubernetes.io/name", "*")
    found = []
    for rule in policy["spec"].get("ingress", []):
        ports = {p["port"] for p in rule.get("ports", [])}
        for peer in rule.get("from", []):
            if "ipBlock" in peer:
                found.append((pod, ports, "*"))
            elif "namespaceSelector" in peer:
                labels = peer["namespaceSelector"].get("matchLabels", {})
                found.append((pod, ports, labels.get("kubernetes.io/metadata.name", "*")))
    return found


def test_only_the_three_edges_are_reachable_from_outside() -> None:
    policies = k8s_kind("NetworkPolicy")
    deny = policies["default-deny-ingress"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}

    openings = [o for p in policies.values() for o in reachable_from_outside(p)]
    for pod, ports, namespace in openings:
        if namespace == "ingress-nginx":
            assert pod in EDGE_PORTS and ports == {EDGE_PORTS[pod]}, (pod, ports)
        else:
            assert {(pod, port) for port in ports} <= OBSERVERS.get(namespace, set()), pod
    assert {pod for pod, _, ns in openings if ns == "ingress-nginx"} == set(EDGE_PORTS)

    services = k8s_kind("Service")
    for name, port in EDGE_PORTS.items():
        assert services[name]["spec"]["ports"][0]["port"] == port
    backends = {
        path["backend"]["service"]["name"]
        for rule in k8s_kind("Ingress")["steward-edges"]["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == set(EDGE_PORTS)


def test_every_file_parses(tmp_path: Path) -> None:
    assert len(DOCUMENTS) > len(contract_topics())
