"""Customer voice screens: the public survey (no login), the shared results
and the voice items. The customer's page (顧客カルテ) is customers/'; this app
adds its sections there through panels.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.models import Customer
from customers.selectors import get_customer_for_user
from dealership.csv_export import csv_response
from dealership.ids import parse_id
from repairs.selectors import jobs_visible_to

from . import permissions, selectors, services
from .forms import (
    AssignVoiceForm,
    EditVoiceForm,
    FollowUpForm,
    ResolveVoiceForm,
    SurveyForm,
    VoiceForm,
    VoiceStatusForm,
)
from .models import CustomerVoice, SurveyInvitation, VoiceCategory, VoiceSource, VoiceStatus

PAGE_SIZE = 25
LANGUAGES = {code for code, _name in settings.LANGUAGES}

# --- Public survey ------------------------------------------------------------------------------------------


def _too_many_requests(request: HttpRequest) -> bool:
    """Count this client address's survey requests in the current minute (shared cache).

    The pages are public and their links are secrets: the limit makes
    guessing links pointless and keeps a scripted flood off the database.
    """
    try:
        address = get_adapter().get_client_ip(request)
    except (PermissionDenied, ImproperlyConfigured):
        # No usable address (or a proxy chain shorter than TRUSTED_PROXY_COUNT):
        # count the socket's peer rather than fail the customer's page.
        address = request.META.get("REMOTE_ADDR", "unknown")
    key = f"feedback:survey-requests:{address}:{int(time.time() // 60)}"
    if cache.add(key, 1, timeout=90):
        return False
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=90)
        return False
    return count > settings.SURVEY_REQUESTS_PER_MINUTE


def public_page(view: Callable) -> Callable:
    """Rate limit, no caching anywhere, no indexing: each survey page is personal."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if _too_many_requests(request):
            response = render(request, "feedback/survey/problem.html", {"reason": "busy"}, status=429)
            response["Retry-After"] = "60"
        else:
            response = view(request, *args, **kwargs)
        response["Cache-Control"] = "private, no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
        return response

    return wrapper


def _language(request: HttpRequest, invitation: SurveyInvitation) -> str:
    """The customer's language, unless they chose the other one on the page."""
    chosen = request.GET.get("lang", "")
    return chosen if chosen in LANGUAGES else invitation.language


def _in_language(language: str, render_page: Callable[[], HttpResponse]) -> HttpResponse:
    with translation.override(language):
        response = render_page()
    response["Content-Language"] = language
    return response


def _link_problem(request: HttpRequest, error: services.SurveyLinkError) -> HttpResponse:
    invitation = getattr(error, "invitation", None)
    language = _language(request, invitation) if invitation else request.GET.get("lang", "")
    language = language if language in LANGUAGES else (translation.get_language() or settings.LANGUAGE_CODE)
    return _in_language(
        language,
        lambda: render(
            request,
            "feedback/survey/problem.html",
            {"reason": error.reason, "branch": invitation.job.branch if invitation else None},
            status=error.status,
        ),
    )


def _survey_context(invitation: SurveyInvitation, signed: str, language: str) -> dict:
    return {
        "invitation": invitation,
        "job": invitation.job,
        "branch": invitation.job.branch,
        "signed": signed,
        "language": language,
        "other_language": "en" if language == "ja" else "ja",
    }


@public_page
@require_http_methods(["GET", "POST"])
def survey(request: HttpRequest, signed: str) -> HttpResponse:
    """GET shows the form (and notes the first opening; mail scanners open links too). The first valid POST wins."""
    try:
        invitation = services.invitation_from_link(signed)
    except services.SurveyLinkError as error:
        return _link_problem(request, error)
    language = _language(request, invitation)
    context = _survey_context(invitation, signed, language)

    def page() -> HttpResponse:
        if invitation.is_answered:
            return render(
                request, "feedback/survey/answered.html", context, status=409 if request.method == "POST" else 200
            )
        status = 200
        if request.method == "POST":
            form = SurveyForm(request.POST)
            if form.is_valid():
                try:
                    services.submit_survey(invitation, answers=form.answers(), language=language)
                except services.AlreadyAnswered:
                    return render(request, "feedback/survey/answered.html", context, status=409)
                return redirect(f"{_thanks_url(signed)}?{urlencode({'lang': language})}")
            status = 400
        else:
            services.mark_opened(invitation)
            form = SurveyForm()
        return render(request, "feedback/survey/form.html", {**context, "form": form}, status=status)

    return _in_language(language, page)


def _thanks_url(signed: str) -> str:
    return reverse("feedback:survey_thanks", args=[signed])


@public_page
@require_GET
def survey_thanks(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_link(signed)
    except services.SurveyLinkError as error:
        return _link_problem(request, error)
    if not invitation.is_answered:
        return redirect("feedback:survey", signed)
    language = _language(request, invitation)
    context = _survey_context(invitation, signed, language)
    return _in_language(language, lambda: render(request, "feedback/survey/thanks.html", context))


# Mail clients send RFC 8058 one-click unsubscribes as a bare POST, without a CSRF token;
# the action is harmless and idempotent, so the exemption is safe.
@csrf_exempt
@public_page
@require_http_methods(["GET", "POST"])
def survey_opt_out(request: HttpRequest, signed: str) -> HttpResponse:
    """ "No more surveys": GET asks (a mail scanner's GET changes nothing), POST records it."""
    try:
        invitation = services.invitation_from_link(signed)
    except services.ExpiredSurveyLink as expired:
        invitation = expired.invitation  # opting out works whatever the link's age
    except services.SurveyLinkError as error:
        return _link_problem(request, error)
    language = _language(request, invitation)
    context = _survey_context(invitation, signed, language)
    if request.method == "POST":
        services.opt_out(invitation)
        return _in_language(language, lambda: render(request, "feedback/survey/opted_out.html", context))
    return _in_language(language, lambda: render(request, "feedback/survey/opt_out.html", context))


# --- Results ------------------------------------------------------------------------------------------------


def _require_results(request: HttpRequest) -> None:
    if not permissions.can_see_results(request.user):
        raise PermissionDenied


def _chart_data(figures: dict) -> dict:
    """What static/js/charts.js draws; the same numbers are in the tables beside each chart."""
    summary = figures["summary"]
    return {
        "overall": {
            "labels": [str(score) for score, _count in figures["overall_distribution"]],
            "values": [count for _score, count in figures["overall_distribution"]],
            "label": _("Answers"),
        },
        "nps": {
            "labels": [_("Detractors (0–6)"), _("Passives (7–8)"), _("Promoters (9–10)")],
            "values": [summary["detractors"], summary["passives"], summary["promoters"]],
            "label": _("Answers"),
        },
        "trend": {
            "labels": [timezone.localtime(row["bucket"]).strftime("%Y-%m-%d") for row in figures["trend"]],
            "series": [
                {
                    "label": _("Average overall (1–5)"),
                    "values": [_round(row["avg_overall"]) for row in figures["trend"]],
                },
                {"label": _("NPS"), "values": [row["nps"] for row in figures["trend"]], "axis": "nps"},
            ],
        },
    }


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None


@login_required
@require_GET
def results(request: HttpRequest) -> HttpResponse:
    _require_results(request)
    filters = selectors.ResultFilters.from_query(request.GET)
    if filters.notice:
        messages.warning(request, filters.notice)
    figures = selectors.results(request.user, filters)
    page = Paginator(selectors.response_page_rows(request.user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/results.html",
        {
            "filters": filters,
            "figures": figures,
            "charts": _chart_data(figures),
            "page": page,
            "query_string": urlencode(filters.as_query()),
            "dimension_labels": DIMENSION_LABELS,
            **selectors.filter_choices(request.user),
        },
    )


DIMENSION_LABELS = {
    "overall": gettext_lazy("Overall satisfaction"),
    "explanation": gettext_lazy("Explanation by staff"),
    "quality": gettext_lazy("Quality of work"),
    "timeliness": gettext_lazy("Timeliness"),
}


RESULTS_CSV_HEADER = [
    "submitted_at",
    "job",
    "branch",
    "kind",
    "sales_owner",
    "technician",
    "overall",
    "explanation",
    "quality",
    "timeliness",
    "nps",
    "may_contact",
    "language",
    "comment",
]


@login_required
@require_GET
def results_csv(request: HttpRequest) -> StreamingHttpResponse:
    _require_results(request)
    filters = selectors.ResultFilters.from_query(request.GET)
    responses = selectors.response_page_rows(request.user, filters).iterator(chunk_size=500)
    rows = (
        (
            timezone.localtime(response.submitted_at).strftime("%Y-%m-%d %H:%M"),
            response.job.number,
            response.job.branch.code,
            response.job.kind,
            response.job.sales_owner.display_name if response.job.sales_owner else "",
            response.job.technician.display_name if response.job.technician else "",
            response.overall,
            response.explanation,
            response.quality,
            response.timeliness,
            response.nps,
            int(response.may_contact),
            response.language,
            response.comment,
        )
        for response in responses
    )
    return csv_response(f"survey-responses-{filters.start}-{filters.end}.csv", RESULTS_CSV_HEADER, rows)


# --- The customer (customers/ owns their page) --------------------------------------------------------------


def _get_customer(request: HttpRequest, pk: int) -> Customer:
    try:
        return get_customer_for_user(request.user, pk)
    except Customer.DoesNotExist:
        raise Http404 from None


# --- Voice items --------------------------------------------------------------------------------------------


def _get_voice(request: HttpRequest, pk: int) -> CustomerVoice:
    try:
        return selectors.get_voice_for_user(request.user, pk)
    except CustomerVoice.DoesNotExist:
        raise Http404 from None


def _voice_list(request: HttpRequest, *, overdue: bool) -> HttpResponse:
    filters = selectors.VoiceFilters.from_query(request.GET, overdue=overdue)
    page = Paginator(selectors.filtered_voice(request.user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "feedback/voice_list.html",
        {
            "filters": filters,
            "page": page,
            "query_string": urlencode(filters.as_query()),
            "statuses": VoiceStatus.choices,
            "categories": VoiceCategory.choices,
            "sources": VoiceSource.choices,
            "overdue_view": overdue,
            "today": timezone.localdate(),
        },
    )


@login_required
@require_GET
def voice_list(request: HttpRequest) -> HttpResponse:
    return _voice_list(request, overdue=False)


@login_required
@require_GET
def voice_overdue(request: HttpRequest) -> HttpResponse:
    return _voice_list(request, overdue=True)


@login_required
@require_http_methods(["GET", "POST"])
def voice_create(request: HttpRequest) -> HttpResponse:
    """A new item starts from a customer (their page, or a job of theirs)."""
    if not permissions.can_record_voice(request.user):
        raise PermissionDenied
    customer_id = parse_id(request.GET.get("customer"))
    job_id = parse_id(request.GET.get("job"))
    if job_id and not customer_id:
        job = jobs_visible_to(request.user).filter(pk=job_id).only("customer_id").first()
        customer_id = job.customer_id if job else None
    if customer_id is None:
        messages.info(request, _("Find the customer first, then record what they said from their page."))
        return redirect("customers:customer_search")
    customer = _get_customer(request, customer_id)
    form = VoiceForm(request.POST or None, customer=customer, initial={"job": job_id, "assignee": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            voice = services.record_voice(by=request.user, customer=customer, **form.cleaned_data)
        except services.VoiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Recorded. The owner has been told."))
            return redirect(voice)
    status = 400 if request.method == "POST" else 200
    return render(request, "feedback/voice_form.html", {"form": form, "customer": customer}, status=status)


@login_required
@require_GET
def voice_detail(request: HttpRequest, pk: int) -> HttpResponse:
    voice = _get_voice(request, pk)
    user = request.user
    can_act = permissions.can_act_on_voice(user, voice)
    moves = [
        {"to": to, "label": VoiceStatus(to).label} for to in voice.allowed_next_statuses if to != VoiceStatus.RESOLVED
    ]
    return render(
        request,
        "feedback/voice_detail.html",
        {
            "voice": voice,
            "history": selectors.voice_history(voice),
            "can_act": can_act,
            "moves": moves if can_act else [],
            "can_resolve": can_act and VoiceStatus.RESOLVED in voice.allowed_next_statuses,
            "can_assign": permissions.can_assign_voice(user, voice),
            "can_follow_up": permissions.can_confirm_follow_up(user, voice) and not voice.customer_followed_up,
            "assign_form": AssignVoiceForm(
                branch_id=voice.branch_id,
                initial={
                    "assignee": voice.assignee_id,
                    "co_assignee": voice.co_assignee_id,
                    "due_date": voice.due_date,
                },
            ),
            "resolve_form": ResolveVoiceForm(),
            "edit_form": EditVoiceForm(
                initial={"category": voice.category, "title": voice.title, "description": voice.description}
            ),
            "follow_up_form": FollowUpForm(),
        },
    )


def _voice_action(request: HttpRequest, pk: int, check: Callable, form_class, act: Callable, done: str):
    """The shape every voice action shares: fetch (404), check (403), validate, call the service."""
    voice = _get_voice(request, pk)
    if not check(request.user, voice):
        raise PermissionDenied
    form = form_class(request.POST, **({"branch_id": voice.branch_id} if form_class is AssignVoiceForm else {}))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(voice)
    try:
        act(voice, form.cleaned_data)
    except services.VoiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect(voice)


@login_required
@require_POST
def voice_status(request: HttpRequest, pk: int) -> HttpResponse:
    return _voice_action(
        request,
        pk,
        permissions.can_act_on_voice,
        VoiceStatusForm,
        lambda voice, data: services.change_voice_status(voice, to=data["to"], note=data["note"], by=request.user),
        _("Status changed."),
    )


@login_required
@require_POST
def voice_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    return _voice_action(
        request,
        pk,
        permissions.can_act_on_voice,
        ResolveVoiceForm,
        lambda voice, data: services.resolve_voice(voice, resolution=data["resolution"], by=request.user),
        _("Marked resolved."),
    )


@login_required
@require_POST
def voice_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _voice_action(
        request,
        pk,
        permissions.can_act_on_voice,
        EditVoiceForm,
        lambda voice, data: services.edit_voice(voice, by=request.user, **data),
        _("Changes saved."),
    )


@login_required
@require_POST
def voice_assign(request: HttpRequest, pk: int) -> HttpResponse:
    return _voice_action(
        request,
        pk,
        permissions.can_assign_voice,
        AssignVoiceForm,
        lambda voice, data: services.assign_voice(voice, by=request.user, **data),
        _("Owner and due date saved."),
    )


@login_required
@require_POST
def voice_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    return _voice_action(
        request,
        pk,
        permissions.can_confirm_follow_up,
        FollowUpForm,
        lambda voice, data: services.confirm_follow_up(voice, note=data["note"], by=request.user),
        _("Follow-up with the customer confirmed."),
    )
