"""Promotions, deterministic canary shares and the kill switch in the route table."""

from __future__ import annotations

import pytest

from steward_inference import (
    KillScope,
    ModelChoice,
    Promotion,
    RouteTable,
    RouteUnavailableError,
    canary_bucket,
)

BASE = ModelChoice(model="smollm2-135m-instruct", revision="r1")
TUNED = ModelChoice(model="smollm2-135m-instruct", revision="r1", adapter="permits-lora-3")


def test_unknown_tenant_gets_the_default() -> None:
    table = RouteTable(BASE)

    resolved = table.resolve(tenant="city", route="chat", correlation_id="c-1")

    assert resolved.choice == BASE
    assert resolved.canary is False


def test_full_promotion_replaces_the_model_for_that_tenant_only() -> None:
    table = RouteTable(BASE)

    table.promote(Promotion(tenant="city", choice=TUNED))

    assert table.resolve(tenant="city", route="chat", correlation_id="c").choice == TUNED
    assert table.resolve(tenant="county", route="chat", correlation_id="c").choice == BASE


def test_canary_share_is_deterministic_and_close_to_the_share() -> None:
    table = RouteTable(BASE)
    table.promote(Promotion(tenant="city", choice=TUNED, canary_share=0.2))
    ids = [f"corr-{n}" for n in range(4000)]

    first = [table.resolve(tenant="city", route="chat", correlation_id=i).canary for i in ids]
    again = [table.resolve(tenant="city", route="chat", correlation_id=i).canary for i in ids]

    assert first == again
    assert 0.17 < sum(first) / len(ids) < 0.23
    for correlation_id, canary in zip(ids, first, strict=True):
        assert canary == (canary_bucket("city", correlation_id) < 0.2)
        choice = table.resolve(tenant="city", route="chat", correlation_id=correlation_id).choice
        assert choice == (TUNED if canary else BASE)


def test_zero_share_withdraws_the_canary() -> None:
    table = RouteTable(BASE)
    table.promote(Promotion(tenant="city", choice=TUNED, canary_share=0.5))

    table.promote(Promotion(tenant="city", choice=TUNED, canary_share=0.0))

    picks = {
        table.resolve(tenant="city", route="chat", correlation_id=f"c{n}").choice
        for n in range(200)
    }
    assert picks == {BASE}


def test_share_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"within \[0, 1\], got 1.5"):
        RouteTable(BASE).promote(Promotion(tenant="city", choice=TUNED, canary_share=1.5))


@pytest.mark.parametrize(
    ("scope", "value"),
    [
        (KillScope.TENANT, "city"),
        (KillScope.ROUTE, "permit-review"),
        (KillScope.MODEL, "smollm2-135m-instruct"),
        (KillScope.MODEL, "permits-lora-3"),
    ],
)
def test_kill_switch_stops_matching_requests_until_enabled(scope: KillScope, value: str) -> None:
    table = RouteTable(BASE)
    table.promote(Promotion(tenant="city", choice=TUNED))

    table.disable(scope, value)

    with pytest.raises(RouteUnavailableError) as stopped:
        table.resolve(tenant="city", route="permit-review", correlation_id="c")
    assert stopped.value.scope == scope.value
    assert stopped.value.value == value
    assert stopped.value.reason == "route_disabled"

    table.enable(scope, value)
    assert table.resolve(tenant="city", route="permit-review", correlation_id="c").choice == TUNED


def test_kill_switch_leaves_other_tenants_and_routes_alone() -> None:
    table = RouteTable(BASE)

    table.disable("tenant", "city")
    table.disable("route", "permit-review")

    assert table.resolve(tenant="county", route="chat", correlation_id="c").choice == BASE
    assert table.disabled() == {
        (KillScope.TENANT, "city"),
        (KillScope.ROUTE, "permit-review"),
    }


def test_unknown_scope_is_refused() -> None:
    with pytest.raises(ValueError, match="'region'"):
        RouteTable(BASE).disable("region", "north")
