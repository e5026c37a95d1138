"""Keys, tokens and settings shared by the gateway's tests (importable by this unique name)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from steward_auth import AuthSettings, SigningKey, generate_signing_key, mint_token, write_jwks
from steward_events import (
    ChatResponded,
    Citation,
    DecidedBy,
    Disposition,
)

ISSUER = "steward-dev"
AUDIENCE = "steward"
TENANT = "riverland-revenue"
PSEUDONYM_KEY = SecretStr("k" * 48)


@dataclass(frozen=True)
class TokenKit:
    """A development signing key and the settings that trust it."""

    key: SigningKey
    auth: AuthSettings

    def token(
        self,
        *,
        subject: str = "ana@example.org",
        tenant: str = TENANT,
        roles: tuple[str, ...] = ("citizen",),
        lifetime: timedelta = timedelta(minutes=10),
        now: datetime | None = None,
        audience: str = AUDIENCE,
        **claims: Any,
    ) -> str:
        return mint_token(
            self.key,
            subject=subject,
            tenant=tenant,
            roles=list(roles),
            issuer=ISSUER,
            audience=audience,
            lifetime=lifetime,
            now=now,
            extra_claims=claims,
        )

    def headers(self, **kwargs: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(**kwargs)}"}


def token_kit(folder: Path) -> TokenKit:
    """An ES256 key with its JWKS written under `folder`."""
    key = generate_signing_key("ES256", kid="gateway-test")
    jwks = write_jwks(folder / "jwks.json", [key])
    return TokenKit(key, AuthSettings(issuer=ISSUER, audience=AUDIENCE, jwks_path=jwks))


def answered(conversation_id: str, text: str = "File by April 15 [1].") -> ChatResponded:
    """A released answer citing one passage."""
    return ChatResponded(
        conversation_id=conversation_id,
        disposition=Disposition.ANSWERED,
        answer=text,
        citations=[
            Citation(
                number=1,
                chunk_id="income-tax-deadlines:0",
                document_id="income-tax-deadlines",
                document_version=1,
                title="Individual income tax deadlines",
                source_url="https://revenue.riverland.example/income-tax/deadlines",
                section_path=["Filing", "Due dates"],
            )
        ],
        ai_notice="Written by an AI assistant.",
        language="en",
        decided_by=DecidedBy.GUARDRAIL,
    )


def holding(conversation_id: str) -> ChatResponded:
    """The holding reply the guardrail sends while a person reviews a draft."""
    return ChatResponded(
        conversation_id=conversation_id,
        disposition=Disposition.UNDER_REVIEW,
        answer="A person will check this answer before you see it.",
        decided_by=DecidedBy.GUARDRAIL,
        final=False,
        review_id="rv-1",
    )


def now_utc() -> datetime:
    return datetime.now(UTC)
