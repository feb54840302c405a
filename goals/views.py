"""Shared goals and the joint KPI dashboard: figures, trends, drill-downs, goals, manual values."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from dealership.csv_export import csv_response
from dealership.models import Branch

from . import permissions, selectors, services
from .forms import CsvImportForm, GoalForm, ManualValueForm
from .metrics import METRICS, Direction, Metric
from .models import Goal

DRILLDOWN_PAGE_SIZE = 50


def _scope(request: HttpRequest, *, tell: bool = True) -> tuple[Branch | None, selectors.Period]:
    """The branch and period asked for; `tell` shows why dates in the query were not used (not for downloads)."""
    if not permissions.can_see_kpis(request.user):
        raise PermissionDenied(_("Only staff of a branch see its figures."))
    try:
        branch = selectors.scope_for(request.user, request.GET.get("branch"))
    except Branch.DoesNotExist:
        raise Http404 from None
    period = selectors.Period.from_query(request.GET)
    if period.notice and tell:
        messages.warning(request, period.notice)
    return branch, period


def _query(branch: Branch | None, period: selectors.Period) -> str:
    return urlencode({**period.as_query(), "branch": branch.pk if branch else "all"})


def _get_goal(request: HttpRequest, pk: int) -> Goal:
    try:
        goal = selectors.get_goal_for_user(request.user, pk)
    except Goal.DoesNotExist:
        raise Http404 from None
    if not permissions.can_manage_goal(request.user, goal):
        raise PermissionDenied(_("Only managers of the goal's branch change it."))
    return goal


def _chart_data(metric: Metric, points: list[tuple]) -> dict:
    return {
        "label": str(metric.label),
        "unit": str(metric.unit_label),
        "labels": [day.isoformat() for day, _value in points],
        "values": [None if value is None else round(value, 4) for _day, value in points],
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    branch, period = _scope(request)
    user = request.user
    figures = selectors.figures(branch, period)
    trends = selectors.trends(branch, period)
    cards = selectors.goal_cards(
        user, selectors.goals_for(user, branch, period.start, period.end, limit=selectors.DASHBOARD_GOALS)
    )
    charts = {key: _chart_data(METRICS[key], points) for key, points in trends.items()}
    return render(
        request,
        "goals/kpi/dashboard.html",
        {
            "branch": branch,
            "period": period,
            "previous": period.previous(),
            "figures": figures,
            # Formatted here: 15 tables of a month of days each would cost the
            # template more than all the figures' queries.
            "trends": [
                (METRICS[key], [(day.isoformat(), METRICS[key].format(value)) for day, value in points])
                for key, points in trends.items()
            ],
            "no_data": _("no data"),
            "charts": charts,
            "cards": cards,
            "branches": selectors.kpi_branches(user),
            "sees_all": user.sees_all_branches,
            "query": _query(branch, period),
            "can_manage": permissions.can_manage_goals(user),
            "month_value": f"{period.start:%Y-%m}",
        },
    )


@login_required
@require_GET
def home_goals(request: HttpRequest) -> HttpResponse:
    """The home page's goal cards, loaded right after the page (goals.panels.home_panels)."""
    if not permissions.can_see_kpis(request.user):
        raise PermissionDenied(_("Only staff of a branch see its figures."))
    return render(request, "goals/partials/goal_home_cards.html", {"cards": selectors.home_goals(request.user)})


@login_required
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    branch, period = _scope(request, tell=False)
    previous = period.previous()
    header = [
        _("metric"),
        _("label"),
        _("unit"),
        _("better"),
        f"{period.start:%Y-%m-%d}–{period.last:%Y-%m-%d}",
        f"{previous.start:%Y-%m-%d}–{previous.last:%Y-%m-%d}",
        _("formula"),
    ]
    rows = [
        [
            figure.metric.key,
            str(figure.metric.label),
            str(figure.metric.unit_label),
            figure.metric.direction,
            _csv_number(figure.metric, figure.value),
            _csv_number(figure.metric, figure.previous),
            " ".join(figure.metric.formula.split()),
        ]
        for figure in selectors.figures(branch, period)
    ]
    scope = branch.code if branch else "all"
    return csv_response(f"kpis-{scope}-{period.start:%Y%m%d}.csv", header, rows)


def _csv_number(metric: Metric, value: float | None) -> int | float | None:
    """The figure rounded as the dashboard shows it, as a number: the CSV writer leaves
    numbers alone, where a negative figure written as text ("-12") would be taken
    for a formula and prefixed."""
    if value is None:
        return None
    rounded = round(value, metric.decimals)
    return int(rounded) if metric.decimals == 0 else rounded


@login_required
@require_GET
def drilldown(request: HttpRequest, key: str) -> HttpResponse:
    metric = METRICS.get(key)
    if metric is None:
        raise Http404
    branch, period = _scope(request)
    value = metric.compute(branch, period.start, period.until)
    rows = metric.drilldown(branch, period.start, period.until)
    page = Paginator(rows, DRILLDOWN_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "goals/kpi/drilldown.html",
        {
            "metric": metric,
            "value": value,
            "branch": branch,
            "period": period,
            "page": page,
            "rows": page.object_list,
            "rows_template": f"goals/kpi/rows_{metric.drilldown_kind}.html",
            "query": _query(branch, period),
        },
    )


def _goal_fields(form: GoalForm) -> dict:
    data = form.cleaned_data
    return {
        "metric": data["metric"],
        "target": data["target"],
        "period": data["period"],
        "start_date": data["start_date"],
        "end_date": data.get("end_date"),
        "branch": data.get("branch"),
        "departments": data["departments"],
        "note": data.get("note", ""),
    }


@login_required
@require_http_methods(["GET", "POST"])
def goal_create(request: HttpRequest) -> HttpResponse:
    if not permissions.can_manage_goals(request.user):
        raise PermissionDenied(_("Only managers set goals."))
    form = GoalForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            goal = services.create_goal(by=request.user, **_goal_fields(form))
        except services.GoalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Goal set: %(goal)s") % {"goal": goal})
            return redirect(_dashboard_for(goal))
    return render(
        request, "goals/kpi/goal_form.html", {"form": form, "goal": None, "units": _units()}, status=_status(form)
    )


@login_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    goal = _get_goal(request, pk)
    form = GoalForm(request.POST or None, user=request.user, goal=goal)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_goal(goal, by=request.user, **_goal_fields(form))
        except services.GoalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Goal saved."))
            return redirect(_dashboard_for(goal))
    return render(
        request, "goals/kpi/goal_form.html", {"form": form, "goal": goal, "units": _units()}, status=_status(form)
    )


@login_required
@require_POST
def goal_archive(request: HttpRequest, pk: int) -> HttpResponse:
    goal = _get_goal(request, pk)
    services.archive_goal(goal, by=request.user)
    messages.success(request, _("Goal archived: it no longer shows on the dashboard and the home page."))
    return redirect("goals:kpi_dashboard")


def _dashboard_for(goal: Goal) -> str:
    query = urlencode(
        {"period": "custom", "start": goal.start_date, "end": goal.end_date, "branch": goal.branch_id or "all"}
    )
    return f"{reverse('goals:kpi_dashboard')}?{query}#goal-{goal.pk}"


def _units() -> list[tuple[str, str, str]]:
    return [(metric.key, str(metric.unit_label), Direction.LABELS[metric.direction]) for metric in METRICS.values()]


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


def _manual_page(request: HttpRequest, *, form=None, import_form=None, import_result=None, status: int = 200):
    return render(
        request,
        "goals/kpi/manual.html",
        {
            "form": form or ManualValueForm(user=request.user),
            "import_form": import_form or CsvImportForm(),
            "import_result": import_result,
            "recent": selectors.recent_manual_values(request.user),
            "today": timezone.localdate(),
        },
        status=status,
    )


def _require_manager(request: HttpRequest) -> None:
    if not permissions.can_manage_goals(request.user):
        raise PermissionDenied(_("Only managers enter figures."))


@login_required
@require_http_methods(["GET", "POST"])
def manual_values(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "GET":
        return _manual_page(request)
    form = ManualValueForm(request.POST, user=request.user)
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.record_manual_value(
                by=request.user, metric=data["metric"], branch=data["branch"], day=data["date"], value=data["value"]
            )
        except services.GoalError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Figure saved."))
            return redirect("goals:kpi_manual")
    return _manual_page(request, form=form, status=400)


@login_required
@require_POST
def manual_import(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = CsvImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _manual_page(request, import_form=form, status=400)
    result = services.import_manual_csv(by=request.user, text=form.cleaned_data["file"])
    if not result.ok:
        return _manual_page(request, import_result=result, status=400)
    messages.success(
        request,
        _("Imported: %(created)d new, %(updated)d replaced.") % {"created": result.created, "updated": result.updated},
    )
    return redirect("goals:kpi_manual")
