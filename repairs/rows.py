"""The rows the polled screens repeat, rendered in Python.

The board shows up to 96 cards (8 columns of 12), the lists 25 rows and the queue 40 items,
and each is rendered fresh whenever a poll finds that something changed. In
the template language a card cost 0.3–0.5 ms (every variable tries item
access before the attribute, an include's context per row, a catalogue
lookup per label, a `reverse()` per link), which made the board's cards cost
more than the rest of the page together (`make bench`, issue 13). These functions
write the same markup from the job's own fields in ~17 µs a card:

- every value goes through `html.escape`, exactly what the template
  language's autoescaping does; the output was compared byte for byte with
  the partials it replaced over 3,200 renders in both languages;
- labels come from the catalogue once per language (`_labels`), links from
  one `reverse()` per URL name (`_url`), not once per row.

The surrounding page stays a template; only the repeated row lives here.
The board (repairs.board) calls these functions directly; the templates reach
them through the thin tags of repairs.templatetags.job_rows.
`tests/repairs/test_job_rows.py` holds the rows to what the templates did:
escaping, links, each reader's language, local time and a working claim form.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, ngettext

from .models import (
    CUSTOMER_STATUS,
    CUSTOMER_STATUS_COLOURS,
    CUSTOMER_STATUS_STAFF_LABELS,
    STATUS_COLOURS,
    CustomerStatus,
    JobKind,
    Priority,
    RepairJob,
    Status,
)

if TYPE_CHECKING:
    from .selectors import Card

_LABELS: dict[str | None, dict[str, Any]] = {}
_URLS: dict[tuple[str, str], tuple[str, str]] = {}
_MARK = "2147483647"


def _markup(html: str) -> SafeString:
    """The finished row. Every value in it went through `escape()` (or is one of our own constants)."""
    return mark_safe(html)  # noqa: S308 -- escaped piece by piece above


def _labels() -> dict[str, Any]:
    """Every label a row shows, translated once per language (the catalogues never change in a process)."""
    language = get_language()
    labels = _LABELS.get(language)
    if labels is None:
        labels = _LABELS[language] = {
            "kind": {value: escape(str(label)) for value, label in JobKind.choices},
            "priority": {value: escape(str(label)) for value, label in Priority.choices},
            "status": {value: escape(str(label)) for value, label in Status.choices},
            "customer_status": {
                status: escape(str(CUSTOMER_STATUS_STAFF_LABELS.get(status, CustomerStatus(status).label)))
                for status in CustomerStatus.values
            },
            "overdue": escape(gettext("Overdue")),
            "unassigned": escape(gettext("Unassigned")),
            "new_messages": escape(gettext("new messages")),
            "priority_word": escape(gettext("Priority")),
            "promised_word": escape(gettext("Promised")),
            "claim": escape(gettext("Claim")),
        }
    return labels


def _url(name: str, pk: int) -> str:
    """`reverse(name, args=[pk])`, reversing each name once per script prefix."""
    key = (name, get_script_prefix())
    parts = _URLS.get(key)
    if parts is None:
        head, _, tail = reverse(name, args=[int(_MARK)]).partition(_MARK)
        parts = _URLS[key] = (head, tail)
    return f"{parts[0]}{pk}{parts[1]}"


def _truncated(text: str, limit: int) -> str:
    """`text|truncatechars:limit` for the plain text of a title (no combining marks to keep whole)."""
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def _time(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f'<time datetime="{local.isoformat()}">{local.strftime("%m/%d %H:%M")}</time>'


def _overdue_badge(labels: dict[str, Any]) -> str:
    return (
        f'<span class="badge text-bg-danger"><i class="bi bi-alarm" aria-hidden="true"></i> {labels["overdue"]}</span>'
    )


def _unread_count(n: int) -> str:
    return escape(ngettext("%(counter)s new message", "%(counter)s new messages", n) % {"counter": n})


def _vehicle(job: RepairJob | Card) -> str:
    vehicle = job.vehicle
    return f"{escape(vehicle.make)} {escape(vehicle.model)}"


def _technician(job: RepairJob | Card, labels: dict[str, Any]) -> str:
    technician = job.technician
    return (
        escape(technician.display_name) if technician is not None and technician.display_name else labels["unassigned"]
    )


def card_parts(job: RepairJob | Card) -> tuple[str, str]:
    """A board card as its markup before and after the unread badge, the one part that
    differs between the people watching the board (repairs.board shares the rest)."""
    labels = _labels()
    overdue = job.is_overdue
    state = " overdue" if overdue else (" awaiting" if job.status == Status.AWAITING_APPROVAL else "")
    urgent = f'<span class="badge text-bg-danger">{labels["priority"][job.priority]}</span>' if job.is_urgent else ""
    promised = ""
    if job.promised_at is not None:
        flag = f" · {labels['overdue']}" if overdue else ""
        promised = (
            f'<div class="small{" text-danger fw-bold" if overdue else ""}">'
            f'<i class="bi bi-clock" aria-hidden="true"></i> '
            f"{_time(job.promised_at)}{flag}</div>"
        )
    head = (
        f'<article class="card job-card mb-2{state}" data-job="{escape(job.number)}">\n'
        f'  <div class="card-body p-2">\n'
        f'    <div class="d-flex justify-content-between gap-1">\n'
        f'      <a class="fw-semibold stretched-link" href="{_url("repairs:job_detail", job.pk)}">'
        f"{escape(job.number)}</a>\n"
        f"      <span>"
    )
    tail = (
        f"{urgent}</span>\n"
        f"    </div>\n"
        f'    <div class="small">{_vehicle(job)}</div>\n'
        f'    <div class="small text-body-secondary">{escape(job.vehicle.plate_number)}</div>\n'
        f'    <div class="small">{labels["kind"][job.kind]} · {escape(_truncated(job.title, 40))}</div>\n'
        f'    <div class="small"><i class="bi bi-person-gear" aria-hidden="true"></i> '
        f"{_technician(job, labels)}</div>\n"
        f"    {promised}\n"
        f"  </div>\n"
        f"</article>"
    )
    return head, tail


def card_unread(count: int) -> str:
    """The unread badge of a board card: messages by others since the viewer last read the thread."""
    if not count:
        return ""
    return (
        f'<span class="badge rounded-pill text-bg-primary" data-testid="unread"><i class="bi bi-chat-dots" '
        f'aria-hidden="true"></i> {int(count)}<span class="visually-hidden"> {_labels()["new_messages"]}</span></span>'
    )


def card(head: str, unread: int, tail: str) -> SafeString:
    return _markup(f"{head}{card_unread(unread)}{tail}")


def status_badges(job: RepairJob) -> SafeString:
    """The customer-facing status as staff see it, and the overdue flag."""
    return _markup(_status_badges(job, _labels(), job.is_overdue))


def _status_badges(job: RepairJob, labels: dict[str, Any], overdue: bool) -> str:
    status = CUSTOMER_STATUS[job.status]
    badges = (
        f'<span class="badge text-bg-{CUSTOMER_STATUS_COLOURS[status]}" data-testid="customer-status">'
        f"{labels['customer_status'][status]}</span>"
    )
    return f"{badges} {_overdue_badge(labels)}" if overdue else badges


def job_row(job: RepairJob) -> SafeString:
    """A row of the job lists ("My customers' cars", the branch's jobs)."""
    labels = _labels()
    overdue = job.is_overdue
    state = "overdue" if overdue else ("awaiting" if job.status == Status.AWAITING_APPROVAL else "")
    url = _url("repairs:job_detail", job.pk)
    number = escape(job.number)
    unread = (
        f' <a href="{url}#thread" class="badge rounded-pill text-bg-primary" data-testid="unread">'
        f"{_unread_count(job.unread)}</a>"
        if getattr(job, "unread", 0)
        else ""
    )
    customer, vehicle = job.customer, job.vehicle
    promised = _time(job.promised_at) if job.promised_at is not None else "—"
    return _markup(
        f'<tr class="{state}" data-job="{number}">\n'
        f'    <td><a href="{url}" class="fw-semibold">{number}</a>{unread}'
        f'<div class="small">{labels["kind"][job.kind]} · {escape(job.title)}</div></td>\n'
        f'    <td><a href="{_url("customers:customer_detail", job.customer_id)}">{escape(customer.name)}</a>'
        f'<div class="kana">{escape(customer.name_kana)}</div>'
        f'<div class="small">{_vehicle(job)} · {escape(vehicle.plate_number)}</div></td>\n'
        f"    <td>{_status_badges(job, labels, overdue)}</td>\n"
        f'    <td class="d-none d-md-table-cell">{promised}</td>\n'
        f'    <td class="d-none d-lg-table-cell">{_technician(job, labels)}</td>\n'
        f"  </tr>"
    )


def queue_item(job: RepairJob) -> SafeString:
    """A job of the technician's own queue."""
    labels = _labels()
    overdue = job.is_overdue
    unread = (
        f'<span class="badge rounded-pill text-bg-primary" data-testid="unread">{_unread_count(job.unread)}</span>'
        if getattr(job, "unread", 0)
        else ""
    )
    promised = f" · {_time(job.promised_at)}" if job.promised_at is not None else ""
    danger = " list-group-item-danger" if overdue else ""
    return _markup(
        f'<a class="list-group-item list-group-item-action py-3 tap-target{danger}" '
        f'href="{_url("repairs:job_detail", job.pk)}" data-job="{escape(job.number)}">\n'
        f'        <div class="d-flex flex-wrap align-items-center gap-1">\n'
        f'          <strong class="me-1">{escape(job.number)}</strong>\n'
        f'          <span class="badge text-bg-{STATUS_COLOURS[job.status]}" data-testid="workshop-status">'
        f"{labels['status'][job.status]}</span>\n"
        f"          {_overdue_badge(labels) if overdue else ''}\n"
        f"          {unread}\n"
        f"        </div>\n"
        f"        <div>{_vehicle(job)} · {escape(job.vehicle.plate_number)}</div>\n"
        f'        <div class="small">{labels["kind"][job.kind]} · {escape(job.title)}{promised}</div>\n'
        f"      </a>"
    )


def pool_item(job: RepairJob, *, may_claim: bool, csrf_token: str) -> SafeString:
    """An unassigned job of the technician's queue, with its claim button when the viewer may claim."""
    labels = _labels()
    overdue = job.is_overdue
    priority = labels["priority"][job.priority]
    plate = f" · {escape(job.vehicle.plate_number)}" if job.vehicle.plate_number else ""
    urgent = f'<span class="badge text-bg-danger">{priority}</span>' if job.is_urgent else ""
    promised = _time(job.promised_at) if job.promised_at is not None else "—"
    claim = ""
    if may_claim:
        token = escape(csrf_token)
        claim = (
            f'<form method="post" action="{_url("repairs:job_claim", job.pk)}" class="queue-claim">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">\n'
            f'          <button class="btn btn-primary btn-tap" type="submit">{labels["claim"]}'
            f'<span class="visually-hidden"> {escape(job.number)}</span></button>\n'
            f"        </form>"
        )
    return _markup(
        f'<div class="list-group-item py-3 d-flex justify-content-between align-items-center gap-2" '
        f'data-job="{escape(job.number)}">\n'
        f'        <a href="{_url("repairs:job_detail", job.pk)}" class="flex-grow-1 text-decoration-none">\n'
        f'          <div class="d-flex flex-wrap align-items-center gap-1">\n'
        f'            <strong class="me-1">{escape(job.number)}</strong>\n'
        f"            {urgent}\n"
        f"            {_overdue_badge(labels) if overdue else ''}\n"
        f"          </div>\n"
        f"          <div>{_vehicle(job)}{plate}</div>\n"
        f'          <div class="small">{labels["kind"][job.kind]} · {escape(job.title)}</div>\n'
        f'          <div class="small">{labels["priority_word"]}: {priority} · '
        f"{labels['promised_word']}: {promised}</div>\n"
        f"        </a>\n"
        f"        {claim}\n"
        f"      </div>"
    )
