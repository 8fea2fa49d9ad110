"""Library operations that bring a workspace up to date with an outside system (Stripe)."""

from __future__ import annotations

from nrr.sync.stripe_sync import ModeMismatch, SyncReport, sync_stripe

__all__ = ["ModeMismatch", "SyncReport", "sync_stripe"]
