"""Bounded field types shared by every event model."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

TenantId = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"),
    Field(description="Agency identifier: lowercase letters, digits and hyphens."),
]
Identifier = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$"),
    Field(description="An opaque identifier of at most 128 characters."),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
ShortText = Annotated[str, StringConstraints(max_length=1_000)]
Text = Annotated[str, StringConstraints(max_length=20_000)]
LongText = Annotated[str, StringConstraints(max_length=200_000)]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
LanguageTag = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?$"),
    Field(description="BCP 47 language tag such as 'en' or 'es-US'."),
]
HttpUrl = Annotated[str, StringConstraints(pattern=r"^https?://\S{1,2040}$")]
SectionPath = Annotated[list[Name], Field(max_length=12)]
Labels = Annotated[dict[Name, ShortText], Field(max_length=50)]
NonNegativeInt = Annotated[int, Field(ge=0)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeFloat = Annotated[float, Field(ge=0)]
Probability = Annotated[float, Field(ge=0, le=1)]

# A pseudonymous subject: a keyed hash of the citizen or staff identity, never the identity.
Pseudonym = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,128}$")]


class Classification(StrEnum):
    """Who may see a document: citizens, agency staff, or named staff only."""

    PUBLIC = "public"
    INTERNAL = "internal"
    RESTRICTED = "restricted"


class Channel(StrEnum):
    """Where a citizen request came from."""

    API = "api"
    CHAT = "chat"
    AGENCY = "agency"
    REPLAY = "replay"
