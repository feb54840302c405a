"""notify(): who may be told, and texts that follow the reader's language."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation

from dealership.i18n import gettext_lazy, pgettext_lazy
from dealership.models import Notification
from dealership.notifications import notify, portable
from repairs.models import CustomerStatus, JobMessage
from tests.factories import CustomerFactory, RepairJobFactory, UserFactory, VehicleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tokyo_job(branch, sales_rep, advisor):
    customer = CustomerFactory(branch=branch, sales_owner=sales_rep)
    return RepairJobFactory(vehicle=VehicleFactory(customer=customer), sales_owner=sales_rep, requested_by=advisor)


@pytest.mark.parametrize("kind", Notification.Kind.values)
def test_no_kind_ever_reaches_someone_who_cannot_see_the_job(kind, tokyo_job, advisor, other_branch_user):
    notify([other_branch_user, advisor], kind, actor=None, target=tokyo_job, text=gettext_lazy("Home"))
    assert list(Notification.objects.values_list("recipient", flat=True)) == [advisor.pk]


@pytest.mark.parametrize("kind", Notification.Kind.values)
def test_no_kind_about_a_message_reaches_another_branch(kind, tokyo_job, advisor, other_branch_user):
    message = JobMessage.objects.create(job=tokyo_job, author=advisor, body="確認")
    notify([other_branch_user], kind, actor=advisor, target=message, text=gettext_lazy("Home"))
    assert not Notification.objects.exists()


def test_an_all_branch_manager_is_told_about_any_branch(tokyo_job, other_branch):
    chief = UserFactory(role="manager", branch=other_branch, all_branches=True)
    assert notify([chief], "message", actor=None, target=tokyo_job, text=gettext_lazy("Home"))


def test_a_target_without_a_visibility_rule_is_refused_loudly(advisor, sales_rep):
    unregistered = Notification.objects.create(recipient=sales_rep, kind="message", template="x")
    with pytest.raises(ImproperlyConfigured):
        notify([advisor], "message", actor=None, target=unregistered, text=gettext_lazy("Home"))


def test_nobody_is_told_twice_and_never_the_actor(tokyo_job, advisor, sales_rep):
    notify([sales_rep, advisor, sales_rep], "message", actor=advisor, target=tokyo_job, text=gettext_lazy("Home"))
    assert list(Notification.objects.values_list("recipient", flat=True)) == [sales_rep.pk]


def test_lazy_texts_keep_their_message_ids(tokyo_job):
    # Pins the Django behaviour portable() relies on: lazy strings keep their arguments.
    assert portable(gettext_lazy("Home")) == {"t": ["Home"]}
    assert portable(pgettext_lazy("customer-facing status", "Received")) == {
        "t": ["customer-facing status", "Received"]
    }
    assert portable(CustomerStatus.WAITING_APPROVAL.label) == {
        "t": ["customer-facing status", "Waiting for your approval"]
    }


def test_an_old_notification_reads_in_the_language_chosen_later(tokyo_job, sales_rep):
    [row] = notify(
        [sales_rep],
        "status_changed",
        actor=None,
        target=tokyo_job,
        text=gettext_lazy("{number} {vehicle}: {status}"),
        args={"number": "R-1", "vehicle": "Prius", "status": CustomerStatus.READY.label},
    )
    row.refresh_from_db()
    with translation.override("ja"):
        assert row.text == "R-1 Prius：お引き取り可能"
    with translation.override("en"):
        assert row.text == "R-1 Prius: Ready for pickup"
