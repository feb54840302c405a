"""Periodic work of team life. Tasks are thin adapters over services."""

from __future__ import annotations

from celery import shared_task

from . import services


@shared_task
def send_event_reminders() -> int:
    """Hourly: remind people of the events starting within the next day (once per event and person)."""
    return services.send_event_reminders()
