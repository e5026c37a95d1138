"""Recent conversations and the replies their requests are waiting for, kept in memory."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from steward_events import ChatResponded

from steward_gateway.errors import UnknownConversation

# LIMITATION: conversations live in this replica's memory only, so a restart forgets them and
# a status poll that lands on another replica finds nothing; a shared store would lift it.


@dataclass
class Turn:
    """One question of a conversation and the latest reply to it, if any."""

    correlation_id: str
    conversation_id: str
    asked_at: float
    reply: ChatResponded | None = None
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def final(self) -> bool:
        """Whether the reply that ends this request has arrived."""
        return self.reply is not None and self.reply.final


@dataclass
class Conversation:
    """The turns of one conversation, visible only to the citizen who asked them."""

    tenant: str
    conversation_id: str
    owner: str
    turns: list[Turn] = field(default_factory=list)
    updated: float = 0.0


class ConversationStore:
    """Bounded, expiring store of conversations, and the meeting point of replies and waiters."""

    def __init__(
        self,
        *,
        max_conversations: int,
        ttl_seconds: float,
        max_turns: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_conversations = max_conversations
        self._ttl = ttl_seconds
        self._max_turns = max_turns
        self._clock = clock
        self._conversations: OrderedDict[tuple[str, str], Conversation] = OrderedDict()
        self._turns: dict[str, tuple[Conversation, Turn]] = {}

    def __len__(self) -> int:
        return len(self._conversations)

    def open_turn(
        self, *, tenant: str, conversation_id: str, owner: str, correlation_id: str
    ) -> Turn:
        """Record a question about to be asked, so its reply has somewhere to land."""
        self._expire()
        now = self._clock()
        key = (tenant, conversation_id)
        conversation = self._conversations.pop(key, None)
        if conversation is None or conversation.owner != owner:
            # A conversation id belongs to whoever used it first; another owner starts afresh.
            if conversation is not None:
                self._forget(conversation)
            conversation = Conversation(tenant, conversation_id, owner)
        self._conversations[key] = conversation

        turn = Turn(correlation_id, conversation_id, now)
        conversation.turns.append(turn)
        conversation.updated = now
        self._turns[correlation_id] = (conversation, turn)
        while len(conversation.turns) > self._max_turns:
            self._turns.pop(conversation.turns.pop(0).correlation_id, None)
        while len(self._conversations) > self._max_conversations:
            _, oldest = self._conversations.popitem(last=False)
            self._forget(oldest)
        return turn

    def withdraw(self, turn: Turn) -> None:
        """Forget a turn whose question never left the gateway."""
        found = self._turns.pop(turn.correlation_id, None)
        if found is not None:
            conversation, _ = found
            conversation.turns = [t for t in conversation.turns if t is not turn]

    def deliver(self, *, tenant: str, correlation_id: str, reply: ChatResponded) -> bool:
        """Attach a reply to the turn it answers; False when that request was not asked here."""
        found = self._turns.get(correlation_id)
        if found is None:
            return False
        conversation, turn = found
        if conversation.tenant != tenant:
            return False

        # A holding reply never replaces a final one that overtook it.
        if turn.final and not reply.final:
            return True
        turn.reply = reply
        turn.arrived.set()
        conversation.updated = self._clock()
        self._conversations.move_to_end((conversation.tenant, conversation.conversation_id))
        return True

    async def wait(self, turn: Turn, seconds: float) -> ChatResponded | None:
        """Wait for the first reply to a turn, holding or final; None past `seconds`."""
        try:
            async with asyncio.timeout(seconds):
                await turn.arrived.wait()
        except TimeoutError:
            return None
        return turn.reply

    def conversation(self, *, tenant: str, conversation_id: str, owner: str) -> Conversation:
        """Return a conversation kept here for its owner, else raise UnknownConversation."""
        self._expire()
        conversation = self._conversations.get((tenant, conversation_id))
        # Someone else's conversation is reported exactly like a missing one.
        if conversation is None or conversation.owner != owner:
            raise UnknownConversation(f"no conversation {conversation_id!r} is kept here")
        return conversation

    def _expire(self) -> None:
        cutoff = self._clock() - self._ttl
        while self._conversations:
            oldest = next(iter(self._conversations.values()))
            if oldest.updated >= cutoff:
                break
            self._conversations.popitem(last=False)
            self._forget(oldest)

    def _forget(self, conversation: Conversation) -> None:
        for turn in conversation.turns:
            self._turns.pop(turn.correlation_id, None)
