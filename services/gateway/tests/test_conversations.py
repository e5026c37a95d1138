"""The bounded, expiring store where replies meet the requests waiting for them."""

from __future__ import annotations

import pytest

from gateway_samples import answered, holding
from steward_gateway.conversations import ConversationStore
from steward_gateway.errors import UnknownConversation


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def store(clock: Clock | None = None, **kwargs: int) -> ConversationStore:
    return ConversationStore(
        max_conversations=kwargs.get("max_conversations", 10),
        ttl_seconds=60,
        clock=clock or Clock(),
    )


async def test_a_reply_that_arrives_before_the_wait_is_still_seen() -> None:
    conversations = store()
    turn = conversations.open_turn(tenant="t", conversation_id="c", owner="o", correlation_id="1")
    assert conversations.deliver(tenant="t", correlation_id="1", reply=answered("c"))
    reply = await conversations.wait(turn, 0.01)
    assert reply is not None
    assert reply.final


async def test_no_reply_within_the_wait_is_none() -> None:
    conversations = store()
    turn = conversations.open_turn(tenant="t", conversation_id="c", owner="o", correlation_id="1")
    assert await conversations.wait(turn, 0.01) is None


def test_replies_to_other_tenants_or_unknown_requests_are_not_matched() -> None:
    conversations = store()
    conversations.open_turn(tenant="t", conversation_id="c", owner="o", correlation_id="1")
    assert not conversations.deliver(tenant="other", correlation_id="1", reply=answered("c"))
    assert not conversations.deliver(tenant="t", correlation_id="2", reply=answered("c"))


def test_a_late_holding_reply_never_replaces_the_final_one() -> None:
    conversations = store()
    turn = conversations.open_turn(tenant="t", conversation_id="c", owner="o", correlation_id="1")
    conversations.deliver(tenant="t", correlation_id="1", reply=answered("c"))
    conversations.deliver(tenant="t", correlation_id="1", reply=holding("c"))
    assert turn.final


def test_only_the_owner_sees_a_conversation() -> None:
    conversations = store()
    conversations.open_turn(tenant="t", conversation_id="c", owner="o", correlation_id="1")
    assert conversations.conversation(tenant="t", conversation_id="c", owner="o").turns
    with pytest.raises(UnknownConversation):
        conversations.conversation(tenant="t", conversation_id="c", owner="someone-else")
    with pytest.raises(UnknownConversation):
        conversations.conversation(tenant="u", conversation_id="c", owner="o")


def test_conversations_expire_and_stay_within_the_bound() -> None:
    clock = Clock()
    conversations = store(clock, max_conversations=2)
    for index in range(3):
        conversations.open_turn(
            tenant="t", conversation_id=f"c{index}", owner="o", correlation_id=str(index)
        )
    assert len(conversations) == 2
    assert not conversations.deliver(tenant="t", correlation_id="0", reply=answered("c0"))

    clock.now += 61
    with pytest.raises(UnknownConversation):
        conversations.conversation(tenant="t", conversation_id="c2", owner="o")
    assert len(conversations) == 0
