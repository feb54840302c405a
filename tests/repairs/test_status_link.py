"""The customer's own status link: signed, expiring, revocable, rate limited, and nothing personal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.signing import Signer
from django.urls import reverse
from django.utils import timezone

from dealership.models import Notification
from repairs import approvals, services, status_links
from repairs.models import STATUS_LINK_SALT, CustomerStatusLink, JobEvent
from repairs.views_status_links import mask_plate

pytestmark = pytest.mark.django_db

UNAVAILABLE = "repairs/status_links/unavailable.html"


@pytest.fixture
def link(job, sales_rep):
    job.branch.phone = "03-1111-2222"
    job.branch.save()
    return status_links.create_status_link(job, by=sales_rep)


def templates_of(response) -> list[str]:
    return [template.name for template in response.templates]


def assert_nothing_personal(html: str, job) -> None:
    customer = job.customer
    for secret in (customer.name, customer.name_kana, customer.phone, customer.email, job.vehicle.plate_number):
        assert secret and secret not in html, f"{secret!r} leaked into the customer's page"
    assert job.vehicle.vin not in html
    assert job.title not in html  # staff wording stays inside the portal
    assert job.customer_request not in html


# --- the customer's page ----------------------------------------------------------------


def test_the_page_opens_without_login_and_shows_only_what_the_customer_may_see(client, link, job):
    response = client.get(link.public_url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "受付済み" in html  # the customer-facing status, in the customer's language (ja)
    assert "Toyota Prius" in html
    assert "品川 300 あ ••-34" in html
    assert job.branch.name in html
    assert "03-1111-2222" in html
    assert_nothing_personal(html, job)
    assert response["Referrer-Policy"] == "no-referrer"


def test_the_page_speaks_the_customers_language(client, link, job):
    job.customer.language = "en"
    job.customer.save()
    html = client.get(link.public_url).content.decode()
    assert '<html lang="en">' in html
    assert "Received" in html


def test_the_page_follows_the_job_and_answers_304_while_nothing_changed(client, link, job, advisor):
    first = client.get(link.public_url, HTTP_HX_REQUEST="true")
    unchanged = client.get(link.public_url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"])
    assert unchanged.status_code == 304

    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)

    changed = client.get(link.public_url, HTTP_HX_REQUEST="true", HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200
    assert "作業中" in changed.content.decode()
    assert_nothing_personal(changed.content.decode(), job)


def test_the_waiting_for_approval_status_is_worded_for_the_customer(client, link, job, advisor):
    services.change_status(job, to="diagnosing", by=advisor, expected_version=job.version)
    approvals.request_approval(job, by=advisor, work="ブレーキパッド交換", estimate_yen=35000)
    html = client.get(link.public_url).content.decode()
    assert "ご承認待ち" in html or "Waiting for your approval" in html
    assert "35,000" not in html  # amounts are discussed with the sales rep, not shown here


def test_a_tampered_signature_gets_the_friendly_404(client, link):
    token = link.token
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    response = client.get(reverse("repairs:status_page", args=[tampered]))
    assert response.status_code == 404
    assert UNAVAILABLE in templates_of(response)


def test_an_unknown_id_with_a_valid_signature_gets_the_friendly_404(client, link, job):
    forged = Signer(salt=STATUS_LINK_SALT).sign(f"{job.pk}.no-such-link-id")
    response = client.get(reverse("repairs:status_page", args=[forged]))
    assert response.status_code == 404
    assert UNAVAILABLE in templates_of(response)


def test_another_jobs_id_in_a_valid_looking_token_gets_the_friendly_404(client, link, make_job):
    other = make_job()
    forged = Signer(salt=STATUS_LINK_SALT).sign(f"{other.pk}.{link.public_id}")
    response = client.get(reverse("repairs:status_page", args=[forged]))
    assert response.status_code == 404
    assert UNAVAILABLE in templates_of(response)
    assert other.vehicle.plate_number not in response.content.decode()


@pytest.mark.parametrize("garbage", ["x", "12", "12.abc", "..:..", "a" * 300])
def test_garbage_tokens_get_the_friendly_404(client, link, garbage):
    response = client.get(f"/jobs/status/{garbage}/")
    assert response.status_code == 404


def test_a_revoked_link_gets_the_friendly_410(client, link, sales_rep):
    status_links.revoke_status_link(link, by=sales_rep)
    response = client.get(link.public_url)
    assert response.status_code == 410
    assert UNAVAILABLE in templates_of(response)
    assert_nothing_personal(response.content.decode(), link.job)


def test_the_link_expires_14_days_after_delivery(client, link, job, advisor, sales_rep, time_machine, settings):
    settings.STATUS_LINK_DAYS_AFTER_DELIVERY = 14
    for status in ("in_progress", "quality_check", "ready", "delivered"):
        services.change_status(job, to=status, by=advisor, expected_version=job.version)
    assert client.get(link.public_url).status_code == 200

    time_machine.move_to(timezone.now() + timedelta(days=13, hours=23))
    assert client.get(link.public_url).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(hours=2))
    response = client.get(link.public_url)
    assert response.status_code == 410
    assert UNAVAILABLE in templates_of(response)


def test_the_friendly_page_is_the_same_for_every_refusal(client, link, sales_rep):
    unknown = client.get(reverse("repairs:status_page", args=["nothing:here"])).content
    status_links.revoke_status_link(link, by=sales_rep)
    revoked = client.get(link.public_url).content
    assert unknown == revoked


def test_the_page_is_rate_limited_per_address(client, link, settings):
    settings.STATUS_PAGE_REQUESTS_PER_MINUTE = 3
    codes = [client.get(link.public_url).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.get(link.public_url, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_refused_tokens_count_towards_the_rate_limit(client, settings):
    settings.STATUS_PAGE_REQUESTS_PER_MINUTE = 2
    codes = [client.get(f"/jobs/status/guess{index}/").status_code for index in range(3)]
    assert codes == [404, 404, 429]


def test_the_page_refuses_posts(client, link):
    assert client.post(link.public_url).status_code == 405


@pytest.mark.parametrize(
    ("plate", "masked"),
    [
        ("品川 300 あ 12-34", "品川 300 あ ••-34"),
        ("横浜 500 さ 1234", "横浜 500 さ ••34"),
        ("", ""),
        ("ABC", "•••"),
    ],
)
def test_plates_are_masked_to_their_last_two_digits(plate, masked):
    assert mask_plate(plate) == masked


# --- creating and revoking -----------------------------------------------------------


def test_an_advisor_creates_a_link_and_the_sales_owner_is_told(client_for, job, advisor, sales_rep):
    response = client_for(advisor).post(reverse("repairs:status_link_create", args=[job.pk]))

    assert response.status_code == 302
    link = CustomerStatusLink.objects.get(job=job)
    assert link.created_by == advisor
    assert JobEvent.objects.filter(job=job, kind="link_created", by=advisor).count() == 1
    assert set(Notification.objects.values_list("recipient__email", flat=True)) == {sales_rep.email}


def test_the_job_section_offers_the_link_with_copy_button_and_qr_code(client_for, link, sales_rep):
    body = client_for(sales_rep).get(reverse("repairs:job_approvals_leads", args=[link.job_id])).content.decode()
    assert link.token in body
    assert "data-copy-target" in body
    assert 'src="data:image/svg+xml' in body


def test_a_technician_neither_creates_nor_sees_the_link(client_for, link, technician):
    client = client_for(technician)
    assert client.post(reverse("repairs:status_link_create", args=[link.job_id])).status_code == 403
    assert link.token not in client.get(reverse("repairs:job_approvals_leads", args=[link.job_id])).content.decode()
    revoke = reverse("repairs:status_link_revoke", args=[link.job_id, link.pk])
    assert client.post(revoke).status_code == 403
    assert CustomerStatusLink.objects.get(pk=link.pk).revoked_at is None


def test_the_sales_rep_revokes_a_link_and_a_second_revoke_changes_nothing(client_for, link, sales_rep):
    client = client_for(sales_rep)
    url = reverse("repairs:status_link_revoke", args=[link.job_id, link.pk])
    assert client.post(url).status_code == 302
    revoked_at = CustomerStatusLink.objects.get(pk=link.pk).revoked_at
    assert revoked_at is not None
    assert client.post(url).status_code == 302
    assert CustomerStatusLink.objects.get(pk=link.pk).revoked_at == revoked_at
    assert JobEvent.objects.filter(kind="link_revoked").count() == 1


def test_no_link_for_a_cancelled_job(client_for, make_job, sales_rep):
    job = make_job(status="cancelled")
    client_for(sales_rep).post(reverse("repairs:status_link_create", args=[job.pk]))
    assert not CustomerStatusLink.objects.filter(job=job).exists()


def test_another_jobs_link_id_cannot_be_revoked_through_this_job(client_for, link, make_job, sales_rep):
    other = make_job()
    url = reverse("repairs:status_link_revoke", args=[other.pk, link.pk])
    assert client_for(sales_rep).post(url).status_code == 404
    assert CustomerStatusLink.objects.get(pk=link.pk).revoked_at is None


def test_another_branch_gets_404_on_every_link_url(client_for, link, other_branch_manager):
    client = client_for(other_branch_manager)
    assert client.post(reverse("repairs:status_link_create", args=[link.job_id])).status_code == 404
    assert client.post(reverse("repairs:status_link_revoke", args=[link.job_id, link.pk])).status_code == 404
    assert client.get(reverse("repairs:job_approvals_leads", args=[link.job_id])).status_code == 404
    assert CustomerStatusLink.objects.filter(job_id=link.job_id).count() == 1


def test_creating_a_link_needs_a_signed_in_user(client, job):
    response = client.post(reverse("repairs:status_link_create", args=[job.pk]))
    assert response.status_code == 302
    assert not CustomerStatusLink.objects.exists()


def test_the_admin_revokes_links_only_through_the_service(client, branch, link):
    from tests.factories import UserFactory

    superuser = UserFactory(email="root@example.com", branch=branch, is_staff=True, is_superuser=True, role="manager")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:repairs_customerstatuslink_changelist"),
        {"action": "revoke_links", "_selected_action": [link.pk]},
    )
    assert response.status_code == 302
    assert CustomerStatusLink.objects.get(pk=link.pk).revoked_by == superuser
    assert JobEvent.objects.filter(kind="link_revoked", by=superuser).count() == 1
    client.logout()
    assert client.get(link.public_url).status_code == 410
