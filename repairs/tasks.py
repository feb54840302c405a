"""Periodic work of the workshop. Tasks are thin adapters over services."""

from __future__ import annotations

from celery import shared_task

from . import approvals, services


@shared_task
def alert_jobs_at_risk() -> int:
    """Every 5 minutes: tell advisor and sales owner about missed or soon-missed promises."""
    return services.alert_jobs_at_risk()


@shared_task
def remind_undecided_approvals() -> int:
    """Every 5 minutes: alert sales owner and advisor once about approvals left undecided too long."""
    return approvals.remind_undecided_approvals()
