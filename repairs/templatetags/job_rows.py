"""`{% load job_rows %}`: the rows of the polled screens, for the templates.

The markup is written in Python by repairs.rows (see there why); these tags
only hand it the job and, for the claim button, the template's context.
"""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from repairs import rows
from repairs.models import RepairJob

register = template.Library()

register.simple_tag(rows.status_badges)
register.simple_tag(rows.job_row)
register.simple_tag(rows.queue_item)


@register.simple_tag(takes_context=True)
def pool_item(context: template.Context, job: RepairJob) -> SafeString:
    return rows.pool_item(job, may_claim=bool(context.get("may_claim")), csrf_token=str(context.get("csrf_token", "")))
