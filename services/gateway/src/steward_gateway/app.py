"""The gateway on the bus: HTTP in front, chat.requested out, chat.responded matched back."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from typing import TYPE_CHECKING, Any

import structlog
import uvicorn
from steward_auth import AuthError, TokenVerifier
from steward_bus import Service, configure_logging
from steward_events import ChatResponded

from steward_gateway.api import GatewayParts, create_api
from steward_gateway.conversations import ConversationStore
from steward_gateway.errors import GatewayError
from steward_gateway.pseudonyms import SubjectPseudonyms
from steward_gateway.ratelimit import RateLimiter
from steward_gateway.settings import GatewaySettings

if TYPE_CHECKING:
    from fastapi import FastAPI
    from steward_events import Envelope

log = structlog.get_logger("steward.gateway")

SERVICE_NAME = "gateway"


class Gateway:
    """The gateway's bus service and HTTP app, sharing one store of waiting requests."""

    def __init__(
        self, settings: GatewaySettings, *, verifier: TokenVerifier | None = None
    ) -> None:
        self.settings = settings
        self.conversations = ConversationStore(
            max_conversations=settings.gateway_max_conversations,
            ttl_seconds=settings.gateway_conversation_ttl_seconds,
        )

        # Every replica must see every reply, so each consumes in a group of its own.
        # LIMITATION: a new replica's group starts at the topic's beginning (the runtime always
        # resets to earliest); a start at the end would need a broker that answers "latest".
        self.service = Service(
            SERVICE_NAME,
            settings,
            group=f"{settings.topic_namespace}steward-gateway-{settings.replica()}",
        )
        self.service.subscribe(ChatResponded, self._on_chat_responded)

        self.api: FastAPI = create_api(
            GatewayParts(
                settings=settings,
                outbox=self.service,
                conversations=self.conversations,
                verifier=verifier or TokenVerifier(settings.auth_settings()),
                pseudonyms=SubjectPseudonyms(settings.pseudonym_key()),
                limiter=RateLimiter(
                    per_minute=settings.gateway_rate_per_minute,
                    burst=settings.gateway_rate_burst,
                    max_clients=settings.gateway_rate_max_clients,
                ),
            )
        )

    async def _on_chat_responded(self, event: Envelope[Any]) -> None:
        reply: ChatResponded = event.data
        matched = self.conversations.deliver(
            tenant=event.tenant, correlation_id=event.correlationid, reply=reply
        )
        # Replies to other replicas' requests are expected and not worth a line.
        if matched:
            log.info(
                "gateway.reply_matched",
                correlation_id=event.correlationid,
                event_id=event.id,
                disposition=reply.disposition.value,
                final=reply.final,
            )

    async def start(self) -> None:
        """Connect to the bus and start consuming replies."""
        await self.service.start()

    async def stop(self) -> None:
        """Stop consuming and close the bus connections."""
        await self.service.stop()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


async def serve(gateway: Gateway, stop: asyncio.Event | None = None) -> None:
    """Run the bus service and the HTTP server until `stop` is set or a signal arrives."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    # uvicorn catches these while it serves and raises them again once it has stopped, so
    # they reach this handler either way and the bus service stops cleanly after HTTP.
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    settings = gateway.settings
    server = uvicorn.Server(
        uvicorn.Config(
            gateway.api,
            host=settings.gateway_host,
            port=settings.gateway_port,
            log_config=None,
            # One structured line per request comes from the handlers instead.
            access_log=False,
            lifespan="off",
        )
    )

    async with gateway:
        http = asyncio.create_task(server.serve())
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({http, stopped}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await http
        stopped.cancel()
        log.info("gateway.stopped", replica=settings.replica())


def main() -> None:
    """Entry point of `python -m steward_gateway`: check settings, run until told to stop."""
    settings = GatewaySettings()
    configure_logging(SERVICE_NAME, settings)
    try:
        gateway = Gateway(settings)
    except (GatewayError, AuthError) as error:
        # Settings and key errors name the setting or file; they never hold key material.
        log.error("gateway.refused_to_start", error=str(error))
        raise SystemExit(f"gateway: {error}") from None
    log.info(
        "gateway.listening",
        url=f"http://{settings.gateway_host}:{settings.gateway_port}",
        replica=settings.replica(),
    )
    asyncio.run(serve(gateway))
