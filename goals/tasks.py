"""Periodic work of team life. Tasks are thin adapters over services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def send_event_reminders() -> int:
    """Hourly: remind people of the events starting within the next day (once per event and person)."""
    return services.send_event_reminders()


@shared_task
def take_kpi_snapshots() -> int:
    """Daily: store each metric's daily figures for the trend charts (recent days recomputed; idempotent)."""
    from . import kpi_services

    return kpi_services.take_daily_snapshots()
