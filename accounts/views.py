from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dealership.http import safe_next_url
from dealership.models import Notification

from . import services
from .forms import ChangeStaffForm, InviteStaffForm, PreferencesForm, SetPasswordForm
from .models import User
from .permissions import can_manage_member, can_manage_staff, can_resend_invitation, staff_visible_to
from .signals import CHOSEN_LANGUAGE_SESSION_KEY

PAGE_SIZE = 25


def _require_manager(request: HttpRequest) -> None:
    if not can_manage_staff(request.user):
        raise PermissionDenied(_("Only managers can manage staff."))


def _get_member_for_manager(request: HttpRequest, pk: int) -> User:
    """404 for someone the manager cannot see, 403 for someone visible but of wider scope."""
    _require_manager(request)
    member = get_object_or_404(staff_visible_to(request.user), pk=pk)
    if not can_manage_member(request.user, member):
        raise PermissionDenied(_("This staff member is outside your scope."))
    return member


@login_required
def team(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    members = staff_visible_to(request.user).order_by("-is_active", "branch__code", "role", "display_name")
    query = request.GET.get("q", "").strip()
    if query:
        members = members.filter(Q(display_name__icontains=query) | Q(email__icontains=query))
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    # What each row may offer is decided here, from the one permission module.
    rows = [
        {
            "member": member,
            "can_manage": can_manage_member(request.user, member),
            "can_resend": can_resend_invitation(request.user, member),
        }
        for member in page
    ]
    query_string = urlencode({"q": query}) if query else ""
    return render(
        request, "accounts/team.html", {"page": page, "rows": rows, "query": query, "query_string": query_string}
    )


@login_required
def invite(request: HttpRequest) -> HttpResponse:
    _require_manager(request)
    form = InviteStaffForm(request.POST or None, manager=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            member, sent = services.invite_staff(by=request.user, **form.cleaned_data)
        except services.EmailTaken as error:
            form.add_error("email", str(error))
            return render(request, "accounts/invite.html", {"form": form})
        if sent:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": member.email})
        else:
            messages.warning(
                request,
                _("The account was created but the e-mail could not be sent. Try “Resend invitation” later."),
            )
        return redirect("accounts:team")
    return render(request, "accounts/invite.html", {"form": form})


@login_required
def staff_edit(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member_for_manager(request, pk)
    form = ChangeStaffForm(request.POST or None, instance=member, manager=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The valid form has written its values onto `member`; the service
        # compares against the stored row.
        member.refresh_from_db()
        try:
            services.change_staff(
                member=member,
                by=request.user,
                role=data["role"],
                department=data["department"],
                branch=data["branch"],
                all_branches=data.get("all_branches", member.all_branches),
                email=data["email"],
            )
        except services.EmailTaken as error:
            member.refresh_from_db()
            form.add_error("email", str(error))
        else:
            messages.success(request, _("Saved changes to %(name)s.") % {"name": member.display_name})
            return redirect("accounts:team")
    return render(request, "accounts/staff_edit.html", {"form": form, "member": member})


@login_required
def staff_set_active(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST deactivates or reactivates."""
    member = _get_member_for_manager(request, pk)
    if request.method == "POST":
        active = request.POST.get("active") == "1"
        try:
            services.set_staff_active(member=member, by=request.user, active=active)
        except ValueError as error:
            messages.error(request, str(error))
            return redirect("accounts:team")
        if active:
            messages.success(request, _("%(name)s can sign in again.") % {"name": member.display_name})
        else:
            messages.success(request, _("%(name)s was deactivated.") % {"name": member.display_name})
        return redirect("accounts:team")
    return render(request, "accounts/staff_confirm_active.html", {"member": member})


@login_required
@require_POST
def resend_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    member = _get_member_for_manager(request, pk)
    try:
        sent = services.send_invitation(user=member, by=request.user)
    except services.InvitationRefused as error:
        messages.error(request, str(error))
        return redirect("accounts:team")
    if sent:
        messages.success(request, _("Invitation sent to %(email)s.") % {"email": member.email})
    else:
        messages.error(request, _("The e-mail could not be sent. Please try again later."))
    return redirect("accounts:team")


@login_required
def login_email_managed_by_manager(request: HttpRequest) -> HttpResponse:
    """Stands in for allauth's e-mail page: nothing is changed here, whatever is posted."""
    messages.info(
        request,
        _("Your sign-in e-mail address is managed by your manager on the Team page. Ask them to change it."),
    )
    return redirect("accounts:preferences")


def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.get_open_invitation(token)
    except services.InvitationError as error:
        return render(request, "accounts/invitation_invalid.html", {"reason": error.reason}, status=410)
    form = SetPasswordForm(request.POST or None, user=invitation.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.accept_invitation(token=token, password=form.cleaned_data["password1"])
        except services.InvitationError as error:
            return render(request, "accounts/invitation_invalid.html", {"reason": error.reason}, status=410)
        messages.success(request, _("Your password is set. Please sign in."))
        return redirect("account_login")
    return render(request, "accounts/accept_invitation.html", {"form": form, "member": invitation.user})


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    form = PreferencesForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.save_preferences(
            user=request.user,
            language=form.cleaned_data["language"],
            email_preferences={kind: form.cleaned_data[f"email_{kind}"] for kind in Notification.Kind.values},
        )
        messages.success(request, _("Your settings were saved."))
        return redirect("accounts:preferences")
    return render(request, "accounts/preferences.html", {"form": form})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the UI language; saved on the user when signed in, in a cookie always."""
    language = request.POST.get("language", "")
    response = HttpResponseRedirect(safe_next_url(request, "home"))
    if language in dict(settings.LANGUAGES):
        if request.user.is_authenticated:
            services.set_language(user=request.user, language=language)
        else:
            # Chosen on the login page: saved on the account at sign-in
            # (accounts.signals). A cookie alone would not do, since a shared
            # workshop tablet would impose one person's choice on everyone.
            request.session[CHOSEN_LANGUAGE_SESSION_KEY] = language
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=365 * 24 * 3600,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response
