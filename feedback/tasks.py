"""Background work of customer voice: thin adapters around feedback.services and dealership.outbox.

Tasks take ids and are idempotent: the invitation's one-to-one on the job and
the conditional claim of its e-mail make a second run (or a second beat) harmless.
"""

from __future__ import annotations

from celery import shared_task

from dealership import outbox

from . import services
from .models import SurveyInvitation


@shared_task
def invite_delivered_jobs() -> dict[str, int]:
    return services.invite_delivered_jobs()


# Attempts are counted on the row, not by Celery, so a chain the sweeper
# restarts does not get a fresh allowance.
@shared_task(bind=True, max_retries=None)
def deliver_survey_invitation(self, invitation_id: int) -> str:
    try:
        return services.send_survey_email(invitation_id)
    except outbox.RetryLater as later:
        raise self.retry(exc=later, countdown=later.countdown) from later


@shared_task
def sweep_pending_survey_emails() -> int:
    return outbox.sweep(SurveyInvitation)
