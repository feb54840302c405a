"""The customer's status link: staff create and revoke it on the job page, and
the customer opens its page — the one page of the portal that opens without
signing in.
"""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import segno
from allauth.account.adapter import get_adapter
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.signing import BadSignature, Signer
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dealership.http import polled_response

from . import permissions, selectors
from .models import STATUS_LINK_SALT, CustomerStatusLink, RepairJob
from .services import JobError
from .status_links import create_status_link, revoke_status_link
from .views_common import get_job_or_404

# --- on the job page -------------------------------------------------------------


def live_links(request: HttpRequest, job: RepairJob) -> list[dict]:
    """The job's links that still open, with their address, expiry and QR code (the job page shows them)."""
    entries = [
        {"link": link, "url": request.build_absolute_uri(link.public_url), "expiry": link.expiry(job)}
        for link in selectors.job_status_links(job)
        if link.is_live(job)
    ]
    for entry in entries:
        entry["qr"] = _qr_data_uri(entry["url"])
    return entries


def _qr_data_uri(url: str) -> str:
    """The QR code of a status link as an SVG data URI (the CSP allows img-src data:)."""
    return segno.make(url, error="m").svg_data_uri(scale=4, border=2)


@login_required
@require_POST
def status_link_create(request: HttpRequest, pk: int) -> HttpResponse:
    job = get_job_or_404(request, pk, people=True)
    try:
        # A user who may not share links gets the service's refusal as a 403.
        create_status_link(job, by=request.user)
    except JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Status link created: copy it or show the QR code to the customer."))
    return redirect(f"{job.get_absolute_url()}#status-link")


@login_required
@require_POST
def status_link_revoke(request: HttpRequest, pk: int, link_id: int) -> HttpResponse:
    job = get_job_or_404(request, pk, people=True)
    if not permissions.can_manage_status_link(request.user, job):
        raise PermissionDenied(permissions.REFUSED_LINK_MANAGE)
    link = CustomerStatusLink.objects.filter(pk=link_id, job=job).select_related("created_by").first()
    if link is None:
        raise Http404
    link.job = job
    try:
        revoke_status_link(link, by=request.user)
    except JobError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The link was revoked: it no longer opens."))
    return redirect(f"{job.get_absolute_url()}#status-link")


# --- the customer's page ---------------------------------------------------------


def mask_plate(plate: str) -> str:
    """品川 300 あ 12-34 → 品川 300 あ ••-34: the customer recognises their car, nobody else learns the plate."""
    parts = plate.split()
    if not parts:
        return ""
    serial = parts[-1]
    digits = sum(character.isdigit() for character in serial)
    seen, masked = 0, []
    for character in serial:
        if character.isdigit():
            seen += 1
            masked.append(character if seen > digits - 2 else "•")
        else:
            masked.append("•" if digits == 0 else character)
    parts[-1] = "".join(masked)
    return " ".join(parts)


def _rate_limited(request: HttpRequest) -> bool:
    """Per client address and minute, in the shared cache (every process sees one count)."""
    try:
        address = get_adapter().get_client_ip(request)
    except PermissionDenied:
        address = "unknown"
    digest = hashlib.sha256(address.encode()).hexdigest()[:24]
    key = f"repairs:status-page:{digest}:{int(time.time() // 60)}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=120)
        count = 1
    return count > settings.STATUS_PAGE_REQUESTS_PER_MINUTE


def _resolve_link(token: str) -> tuple[CustomerStatusLink | None, int]:
    """The live link a token names, or None and the status code of the friendly refusal."""
    try:
        value = Signer(salt=STATUS_LINK_SALT).unsign(token)
    except BadSignature:
        return None, 404
    job_id, _dot, public_id = value.partition(".")
    if not (job_id.isascii() and job_id.isdigit() and public_id):
        return None, 404
    link = (
        CustomerStatusLink.objects.select_related("job", "job__vehicle", "job__branch", "job__customer")
        .filter(public_id=public_id)
        .first()
    )
    if link is None or link.job_id != int(job_id):
        return None, 404
    if not link.is_live(link.job):
        return None, 410
    return link, 200


def _public(response: HttpResponse) -> HttpResponse:
    # The token is the key to the page: keep it out of referrers and search engines.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


EXPIRY_WARNING = timedelta(days=2)


def status_page(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: customer-facing status, model, masked plate, promise, branch.

    No login, the customer's language, polled like the staff screens so the
    status changes in front of them. Anything wrong with the link gets one
    friendly page (404 unknown or tampered, 410 expired or revoked), and
    every address is limited to STATUS_PAGE_REQUESTS_PER_MINUTE (429).
    """
    if request.method not in ("GET", "HEAD"):
        return _public(HttpResponse(status=405, headers={"Allow": "GET, HEAD"}))
    if _rate_limited(request):
        response = render(request, "repairs/status_links/unavailable.html", {"busy": True}, status=429)
        response["Retry-After"] = "60"
        return _public(response)
    link, code = _resolve_link(token)
    if link is None:
        return _public(render(request, "repairs/status_links/unavailable.html", {"busy": False}, status=code))
    job = link.job
    language = job.customer.language if job.customer.language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
    # The page's "viewer" is the link in its language; what it shows changes
    # with the job (job:<pk>: every job write goes through record_event) and
    # with the vehicle, the customer's language and the branch (branch:<id>).
    viewer = {"link": link.pk, "language": language}
    keys = [f"job:{job.pk}", f"branch:{job.branch_id}"]
    with translation.override(language):

        def build(etag_for) -> HttpResponse:
            expiry = link.expiry(job)
            context = {
                "status_label": job.get_customer_status_display(),
                "status_colour": job.customer_status_colour,
                "model": f"{job.vehicle.make} {job.vehicle.model}".strip(),
                "plate": mask_plate(job.vehicle.plate_number),
                "promised_at": job.promised_at,
                "branch_name": job.branch.name,
                "branch_phone": job.branch.phone,
                "updated_at": job.updated_at,
                "poll_url": request.path,
                "expires_soon": expiry is not None and expiry < timezone.now() + EXPIRY_WARNING,
                # "Stops working soon" appears, then the link stops: render again at each.
                "etag": etag_for(selectors.first_to_come([expiry - EXPIRY_WARNING, expiry] if expiry else [])).strip(
                    '"'
                ),
            }
            template = "repairs/status_links/customer_page.html"
            return render(request, f"{template}#live" if request.htmx else template, context)

        response = polled_response(request, viewer=viewer, keys=keys, parts=["status"], render=build)
        response["Content-Language"] = language
    return _public(response)
