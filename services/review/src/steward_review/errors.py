"""Exceptions the review queue raises, one per failure a caller can act on."""

from __future__ import annotations


class ReviewError(Exception):
    """Base class for every review-desk failure."""


class ItemNotFound(ReviewError):
    """No item with this id exists for the reviewer's tenant."""

    def __init__(self, tenant: str, item_id: str) -> None:
        super().__init__(f"no review item {item_id!r} for tenant {tenant!r}")
        self.tenant = tenant
        self.item_id = item_id


class ItemUnavailable(ReviewError):
    """The item exists but this reviewer cannot claim it now."""

    def __init__(self, item_id: str, reason: str) -> None:
        super().__init__(f"review item {item_id!r} cannot be claimed: {reason}")
        self.item_id = item_id
        self.reason = reason


class LeaseNotHeld(ReviewError):
    """The reviewer tried to decide an item without holding a live lease on it."""

    def __init__(self, item_id: str, reason: str) -> None:
        super().__init__(f"no live lease on review item {item_id!r}: {reason}")
        self.item_id = item_id
        self.reason = reason


class InvalidDecision(ReviewError):
    """The decision is malformed or not allowed for this item and reviewer."""


class PolicyError(ReviewError):
    """The tenant SLA policy file is missing or malformed."""
