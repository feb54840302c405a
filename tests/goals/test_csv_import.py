"""CSV import of manual figures: a good file imports; any bad row → nothing written,
each bad row listed with its line number and reason."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from goals import services as kpi_services
from goals.models import ManualKpiValue

pytestmark = pytest.mark.django_db

URL = reverse("goals:kpi_manual_import")
HEADER = "date,branch,metric,value\n"


def upload(text: str, *, encoding: str = "utf-8") -> dict:
    return {"file": SimpleUploadedFile("figures.csv", text.encode(encoding), content_type="text/csv")}


def test_a_good_file_imports_every_row_and_a_second_import_replaces_the_days(branch, manager):
    text = HEADER + "2026-10-01,tokyo-east,units_sold,3\n2026-10-02,tokyo-east,units_sold,4.5\n\n"
    result = kpi_services.import_manual_csv(by=manager, text="\ufeff" + text)
    assert result.ok and (result.created, result.updated) == (2, 0)
    assert sorted(ManualKpiValue.objects.values_list("date", "value")) == [
        (date(2026, 10, 1), Decimal(3)),
        (date(2026, 10, 2), Decimal("4.5")),
    ]
    again = kpi_services.import_manual_csv(by=manager, text=HEADER + "2026-10-01,tokyo-east,units_sold,7\n")
    assert (again.created, again.updated) == (0, 1)
    assert ManualKpiValue.objects.get(date=date(2026, 10, 1)).value == 7
    assert ManualKpiValue.objects.get(date=date(2026, 10, 1)).entered_by == manager


def test_any_bad_row_writes_nothing_and_lists_each_bad_row_with_its_line_and_reason(branch, other_branch, manager):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    text = HEADER + "\n".join(
        [
            "2026-10-01,tokyo-east,units_sold,3",  # line 2: good
            "2026/10/02,tokyo-east,units_sold,3",  # 3: not a date
            "2026-10-03,osaka,units_sold,3",  # 4: unknown branch
            "2026-10-04,yokohama,units_sold,3",  # 5: another branch
            "2026-10-05,tokyo-east,csat,3",  # 6: not a manual metric
            "2026-10-06,tokyo-east,units_sold,three",  # 7: not a number
            "2026-10-07,tokyo-east,units_sold,-1",  # 8: negative
            f"{tomorrow},tokyo-east,units_sold,1",  # 9: future
            "2026-10-01,tokyo-east,units_sold,5",  # 10: same as line 2
            "2026-10-09,tokyo-east,units_sold",  # 11: a column missing
            "2026-10-10,tokyo-east,units_sold,1.234",  # 12: three decimals
        ]
    )
    result = kpi_services.import_manual_csv(by=manager, text=text)
    assert not result.ok
    assert [error.line for error in result.errors] == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    reasons = {error.line: error.reason for error in result.errors}
    assert "2026/10/02" in reasons[3]
    assert "osaka" in reasons[4]
    assert "2" in reasons[10]
    assert not ManualKpiValue.objects.exists()


def test_a_file_without_the_header_is_refused_on_line_one(manager):
    result = kpi_services.import_manual_csv(by=manager, text="2026-10-01,tokyo-east,units_sold,3\n")
    assert [error.line for error in result.errors] == [1]
    assert not ManualKpiValue.objects.exists()


def test_an_empty_file_is_refused(manager):
    assert not kpi_services.import_manual_csv(by=manager, text=HEADER).ok


def test_only_managers_import(technician):
    with pytest.raises(PermissionDenied):
        kpi_services.import_manual_csv(by=technician, text=HEADER + "2026-10-01,tokyo-east,units_sold,3\n")


# --- through the page ---------------------------------------------------------------------------------------


def test_the_page_imports_a_good_file(branch, manager, client_for):
    answer = client_for(manager).post(URL, upload(HEADER + "2026-10-01,tokyo-east,units_sold,3\n"))
    assert answer.status_code == 302
    assert ManualKpiValue.objects.count() == 1


def test_the_page_lists_the_bad_rows_and_writes_nothing(branch, manager, client_for):
    answer = client_for(manager).post(
        URL, upload(HEADER + "2026-10-01,tokyo-east,units_sold,3\n2026-10-02,tokyo-east,units_sold,x\n")
    )
    assert answer.status_code == 400
    html = answer.content.decode()
    assert 'data-testid="import-errors"' in html and 'data-line="3"' in html and 'data-line="2"' not in html
    assert not ManualKpiValue.objects.exists()


def test_the_page_refuses_a_file_that_is_not_utf8_text(branch, manager, client_for):
    answer = client_for(manager).post(URL, upload(HEADER + "2026-10-01,東京,units_sold,3\n", encoding="shift_jis"))
    assert answer.status_code == 400
    assert "file" in answer.context["import_form"].errors
    assert not ManualKpiValue.objects.exists()


@pytest.mark.parametrize("persona", ["sales_rep", "technician", "advisor"])
def test_the_import_is_403_for_everyone_but_managers(persona, request, branch, client_for):
    answer = client_for(request.getfixturevalue(persona)).post(
        URL, upload(HEADER + "2026-10-01,tokyo-east,units_sold,3\n")
    )
    assert answer.status_code == 403
    assert not ManualKpiValue.objects.exists()
