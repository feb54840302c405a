"""Team events: lists, month view, the event page, planning and follow-up, calendars."""

from __future__ import annotations

from datetime import date, timedelta

from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from dealership import dates
from dealership.http import safe_next_url
from dealership.scopes import may_see_branch, scope_to

from . import ical, permissions, selectors, services
from .forms import ActionItemForm, AttendanceForm, CancelForm, EventForm, OrganiserForm, RsvpForm
from .models import RSVP, ActionItem, CalendarFeed, EventMaterial, Organiser, TeamEvent

# A calendar app polls the feed every few minutes to hours; anything faster is probing.
FEED_REQUESTS_PER_10_MINUTES = 60


def _get_event(request: HttpRequest, pk: int) -> TeamEvent:
    try:
        return selectors.get_event_for_user(request.user, pk)
    except TeamEvent.DoesNotExist:
        raise Http404 from None


def _get_managed_event(request: HttpRequest, pk: int) -> TeamEvent:
    event = _get_event(request, pk)
    if not permissions.can_manage_event(request.user, event):
        raise PermissionDenied(_("Only the event's organisers and managers may do this."))
    return event


def _show_errors(request: HttpRequest, form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


@login_required
@require_GET
def event_list(request: HttpRequest) -> HttpResponse:
    user = request.user
    show_past = request.GET.get("when") == "past"
    if show_past:
        page = Paginator(selectors.past_events(user), selectors.PAST_PAGE_SIZE).get_page(request.GET.get("page"))
        events = page.object_list
    else:
        page, events = None, selectors.upcoming_events(user)
    return render(
        request,
        "events/event_list.html",
        {
            "events": events,
            "page": page,
            "show_past": show_past,
            "can_plan": permissions.can_plan_event(user),
            "can_manage_organisers": permissions.can_manage_organisers(user),
        },
    )


def _month_from(request: HttpRequest) -> date:
    """The month the query asks for, else this month (with a message when the query held no usable month)."""
    try:
        month = dates.parse_month(request.GET.get("month"))
    except dates.DateRefused as refused:
        messages.warning(request, str(refused))
        month = None
    return month or timezone.localdate().replace(day=1)


@login_required
@require_GET
def event_month(request: HttpRequest) -> HttpResponse:
    month = _month_from(request)
    previous = (month - timedelta(days=1)).replace(day=1)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return render(
        request,
        "events/event_month.html",
        {
            "month": month,
            "weeks": selectors.month_grid(request.user, month.year, month.month),
            "previous": previous,
            "following": following,
            "can_plan": permissions.can_plan_event(request.user),
        },
    )


@login_required
@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _event_page(request, _get_event(request, pk))


def _event_page(
    request: HttpRequest,
    event: TeamEvent,
    *,
    attendance_form: AttendanceForm | None = None,
    action_form: ActionItemForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    participants = selectors.event_participants(event)
    mine = next((row for row in participants if row.user_id == user.pk), None)
    can_manage = permissions.can_manage_event(user, event)
    items = selectors.event_action_items(event)
    context = {
        "event": event,
        "participants": participants,
        "invited": [row for row in participants if row.invited],
        "others": [row for row in participants if not row.invited],
        "pairs": [row for row in participants if row.host_id],
        "my_rsvp": mine.rsvp if mine else RSVP.NONE,
        "rsvp_choices": [(value, label) for value, label in RSVP.choices if value != RSVP.NONE],
        "counts": {answer: sum(1 for row in participants if row.rsvp == answer) for answer in RSVP.values},
        "attended_count": sum(1 for row in participants if row.attended),
        "can_rsvp": permissions.can_rsvp(user, event),
        "can_manage": can_manage,
        "can_take_attendance": can_manage
        and not event.is_cancelled
        and timezone.localdate(event.starts_at) <= timezone.localdate(),
        "materials": list(event.materials.all()),
        "action_items": [(item, permissions.can_complete_action_item(user, item)) for item in items],
    }
    if attendance_form is not None or context["can_take_attendance"]:
        context["attendance_form"] = attendance_form or AttendanceForm(
            event=event,
            initial={
                "attendees": [row.user_id for row in participants if row.attended]
                or [row.user_id for row in participants if row.rsvp == RSVP.YES],
                "minutes": event.minutes,
            },
        )
    if can_manage and not event.is_cancelled:
        context["action_form"] = action_form or ActionItemForm(event=event)
    return render(request, "events/event_detail.html", context, status=status)


@login_required
def event_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_plan_event(user):
        raise PermissionDenied(_("Only managers and the organisers they name plan events."))
    form = EventForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        branch = form.cleaned_data.get("branch") or user.branch
        try:
            event = services.plan_event(by=user, branch=branch, **form.service_arguments())
        except services.EventError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("“%(title)s” is planned and the invitees are told.") % {"title": event.title})
            return redirect(event)
    return render(request, "events/event_form.html", {"form": form, "event": None}, status=400 if form.errors else 200)


@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get_managed_event(request, pk)
    if event.is_cancelled:
        messages.error(request, _("This event was cancelled; plan a new one instead."))
        return redirect(event)
    form = EventForm(
        request.POST or None,
        request.FILES or None,
        user=request.user,
        event=event,
        initial=EventForm.initial_for(event),
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.update_event(event, by=request.user, **form.service_arguments())
        except services.EventError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Event saved. Participants are told of a new time or place."))
            return redirect(event)
    return render(request, "events/event_form.html", {"form": form, "event": event}, status=400 if form.errors else 200)


@login_required
def event_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST cancels."""
    event = _get_managed_event(request, pk)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.cancel_event(event, by=request.user, reason=form.cleaned_data["reason"])
        except services.EventError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The event is cancelled and the invitees are told."))
        return redirect(event)
    return render(request, "events/confirm_cancel.html", {"event": event, "form": form})


@login_required
@require_POST
def event_rsvp(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get_event(request, pk)
    if not permissions.can_rsvp(request.user, event):
        raise PermissionDenied(_("This event is over or cancelled."))
    form = RsvpForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Answer going, maybe or not going."))
        return redirect(safe_next_url(request, event.get_absolute_url()), status=303)
    services.rsvp(event, by=request.user, answer=form.cleaned_data["answer"])
    messages.success(
        request,
        _("Your answer for “%(title)s”: %(answer)s")
        % {"title": event.title, "answer": RSVP(form.cleaned_data["answer"]).label},
    )
    return redirect(safe_next_url(request, event.get_absolute_url()))


@login_required
@require_POST
def event_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get_managed_event(request, pk)
    form = AttendanceForm(request.POST, event=event)
    if form.is_valid():
        try:
            services.record_attendance(
                event, by=request.user, attendees=form.cleaned_data["attendees"], minutes=form.cleaned_data["minutes"]
            )
        except services.EventError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Attendance and minutes saved."))
            return redirect(f"{event.get_absolute_url()}#attendance")
    return _event_page(request, event, attendance_form=form, status=400)


@login_required
@require_POST
def action_item_add(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get_managed_event(request, pk)
    form = ActionItemForm(request.POST, event=event)
    if form.is_valid():
        try:
            item = services.add_action_item(event, by=request.user, **form.cleaned_data)
        except services.EventError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Action item added; %(name)s is told.") % {"name": item.assignee.display_name})
            return redirect(f"{event.get_absolute_url()}#action-items")
    return _event_page(request, event, action_form=form, status=400)


@login_required
@require_POST
def action_item_done(request: HttpRequest, pk: int) -> HttpResponse:
    item = ActionItem.objects.select_related("event").filter(pk=pk).first()
    if item is None or not permissions.can_see_event(request.user, item.event):
        raise Http404
    if not permissions.can_complete_action_item(request.user, item):
        raise PermissionDenied
    if request.POST.get("reopen"):
        services.reopen_action_item(item, by=request.user)
        messages.success(request, _("Action item reopened."))
    else:
        services.complete_action_item(item, by=request.user)
        messages.success(request, _("Action item done: %(text)s") % {"text": item.text})
    return redirect(safe_next_url(request, item.get_absolute_url()))


@login_required
@require_GET
def material_file(request: HttpRequest, pk: int, material_id: int) -> FileResponse:
    """A material, served only to people who may see its event, always as a download."""
    event = _get_event(request, pk)
    material = EventMaterial.objects.filter(pk=material_id, event=event).first()
    if material is None or not material.file:
        raise Http404
    response = FileResponse(material.file.open("rb"), as_attachment=True, filename=material.original_name)
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def material_remove(request: HttpRequest, pk: int, material_id: int) -> HttpResponse:
    event = _get_managed_event(request, pk)
    material = EventMaterial.objects.select_related("event").filter(pk=material_id, event=event).first()
    if material is None:
        raise Http404
    services.remove_material(material, by=request.user)
    messages.success(request, _("%(name)s was removed.") % {"name": material.original_name})
    return redirect(event)


@login_required
@require_GET
def event_ics(request: HttpRequest, pk: int) -> HttpResponse:
    event = _get_event(request, pk)
    response = HttpResponse(ical.event_calendar(event), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="event-{event.pk}.ics"'
    return response


def feed_token(feed: CalendarFeed) -> str:
    # The salt keeps the name the feed had in goals/: the subscribed URLs stay valid.
    return salted_hmac("goals.calendar_feed", f"{feed.user_id}:{feed.salt}", algorithm="sha256").hexdigest()[:40]


def feed_url(request: HttpRequest, feed: CalendarFeed) -> str:
    return request.build_absolute_uri(reverse("events:calendar_feed", args=[feed.user_id, feed_token(feed)]))


@login_required
@require_GET
def calendar_page(request: HttpRequest) -> HttpResponse:
    feed = services.calendar_feed_for(request.user)
    return render(request, "events/calendar.html", {"feed_url": feed_url(request, feed), "feed": feed})


@login_required
@require_POST
def calendar_reset(request: HttpRequest) -> HttpResponse:
    services.reset_calendar_secret(user=request.user)
    messages.success(
        request, _("New calendar address made. The old one no longer works: subscribe again with the new one.")
    )
    return redirect("events:calendar")


def _client_address(request: HttpRequest) -> str:
    # allauth's adapter reads X-Forwarded-For only through the trusted proxies.
    return get_adapter(request).get_client_ip(request) or "unknown"


def _over_limit(request: HttpRequest) -> bool:
    key = f"events:feed-limit:{_client_address(request)}"
    cache.add(key, 0, timeout=600)
    try:
        count = cache.incr(key)
    except ValueError:
        count = 1
    return count > FEED_REQUESTS_PER_10_MINUTES


@require_GET
def calendar_feed(request: HttpRequest, user_id: int, token: str) -> HttpResponse:
    """A person's events as a subscribable calendar: no login, only the secret URL.

    Anything wrong (unknown person, old or forged token, inactive account)
    is the same plain 404, so the URL reveals nothing about who works here.
    """
    if _over_limit(request):
        response = HttpResponse(
            _("Too many requests. Try again in a few minutes."), status=429, content_type="text/plain"
        )
        response["Retry-After"] = "600"
        return response
    feed = CalendarFeed.objects.select_related("user").filter(user_id=user_id, user__is_active=True).first()
    if feed is None or not constant_time_compare(feed_token(feed), token):
        raise Http404
    user: User = feed.user
    events = list(selectors.feed_events(user))
    for event in events:
        event.viewer_email = user.email
    # Nobody is signed in: the feed speaks its owner's language.
    with translation.override(user.language):
        body = ical.feed_calendar(events, name=_("Team events – %(name)s") % {"name": user.display_name})
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _organiser_page(request: HttpRequest, form: OrganiserForm, status: int = 200) -> HttpResponse:
    current = scope_to(Organiser.objects.all(), request.user, "user__branch")
    current = current.select_related("user", "granted_by").order_by("user__display_name")
    return render(request, "events/organisers.html", {"form": form, "organisers": current}, status=status)


@login_required
def organisers(request: HttpRequest) -> HttpResponse:
    """Managers name the staff who may plan events (GET lists them, POST adds one)."""
    if not permissions.can_manage_organisers(request.user):
        raise PermissionDenied
    form = OrganiserForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if form.is_valid():
            person = form.cleaned_data["user"]
            services.grant_organiser(by=request.user, user=person)
            messages.success(request, _("%(name)s may now plan events.") % {"name": person.display_name})
            return redirect("events:organisers")
        return _organiser_page(request, form, status=400)
    return _organiser_page(request, form)


@login_required
@require_POST
def organiser_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    if not permissions.can_manage_organisers(request.user):
        raise PermissionDenied
    organiser = Organiser.objects.select_related("user").filter(user_id=user_id).first()
    if organiser is None or not may_see_branch(request.user, organiser.user.branch_id):
        raise Http404
    services.revoke_organiser(by=request.user, user=organiser.user)
    messages.success(request, _("%(name)s no longer plans events.") % {"name": organiser.user.display_name})
    return redirect("events:organisers")
