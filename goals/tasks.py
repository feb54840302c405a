"""Periodic work of the shared goals. Tasks are thin adapters over services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def take_kpi_snapshots() -> int:
    """Daily: store each metric's daily figures for the trend charts (recent days recomputed; idempotent)."""
    return services.take_daily_snapshots()
