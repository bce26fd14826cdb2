"""The manager's staffing plan page and its CSV export, through HTTP."""

import csv
import io
import re

import pytest
from django.test import Client

from frontdesk.staffing.views import CSV_HEADER

from .conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db

PAGE = "/plan/gran-via/"


def signed_in(staff) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def test_manager_sees_the_heat_map_and_what_it_is_based_on(setup, history, branch_manager):
    page = signed_in(branch_manager).get(PAGE)
    assert page.status_code == 200
    html = page.text
    assert "Gran Vía" in html
    assert 'class="heat-map"' in html
    assert re.search(r'<td class="heat-(short|even|spare)-?\d?[^"]*" title="Mon 11:00: ', html)
    assert "recommended / usually open" in html
    assert "Expected share served within 10 minutes, per hour" in html
    assert "Checked by simulation" in html
    assert "How good is the forecast?" in html
    assert "Average of the same weekday" in html
    assert "no appointment book" in html
    assert f"/plan/gran-via/export.csv?week={NEXT_MONDAY}" in html
    assert "staffing/planner.css" in html
    # Our CSP forbids inline styles and scripts: colours are classes, never style attributes.
    assert "style=" not in html
    assert "<script>" not in html


def test_clerks_of_the_branch_may_look_others_may_not(setup, frozen_now, clerk, outsider):
    assert signed_in(clerk).get(PAGE).status_code == 200
    assert signed_in(outsider).get(PAGE).status_code == 404
    assert signed_in(outsider).get(PAGE + "export.csv").status_code == 404
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]


def test_what_if_inputs_change_the_plan(setup, history, branch_manager):
    client = signed_in(branch_manager)

    def counter_hours(response) -> str:
        match = re.search(r'<span class="figure">([\d.,]+) <small>', response.text)
        assert match, response.text[:500]
        return match.group(1)

    default = client.get(PAGE)
    slower = client.get(PAGE, {"target": "0.9", "target_minutes": "5", "service_minutes": "20"})
    assert slower.status_code == 200
    assert float(counter_hours(slower)) > float(counter_hours(default))
    assert 'value="20.0"' in slower.text or 'value="20"' in slower.text
    assert "service_minutes=20" in slower.text  # the CSV link keeps the what-if


def test_bad_what_if_input_re_renders_with_the_error(setup, frozen_now, branch_manager):
    response = signed_in(branch_manager).get(PAGE, {"target": "1.5"})
    assert response.status_code == 400
    assert "The target is a share between 0 and 1" in response.text
    assert 'class="heat-map"' not in response.text
    not_a_number = signed_in(branch_manager).get(PAGE, {"target_minutes": "ten"})
    assert not_a_number.status_code == 400
    assert "Enter a number." in not_a_number.text
    too_far = signed_in(branch_manager).get(PAGE, {"week": "2030-01-07"})
    assert too_far.status_code == 400
    assert "Plan a week from this one" in too_far.text


def test_csv_export_has_a_header_and_one_row_per_open_half_hour(setup, history, branch_manager):
    response = signed_in(branch_manager).get(PAGE + "export.csv", {"week": str(NEXT_MONDAY), "target": "0.8"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="plan-gran-via-{NEXT_MONDAY}.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [*CSV_HEADER, "forecast_A", "forecast_B"]
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert len(body) == 6 * 18  # Monday to Saturday, 09:00–18:00
    monday_eleven = next(row for row in body if row["date"] == str(NEXT_MONDAY) and row["start"] == "11:00")
    assert monday_eleven["end"] == "11:30"
    assert float(monday_eleven["forecast_arrivals"]) == pytest.approx(10, rel=0.15)
    assert int(monday_eleven["gap"]) == int(monday_eleven["recommended_counters"]) - int(
        monday_eleven["usually_open_counters"]
    )
    bad = signed_in(branch_manager).get(PAGE + "export.csv", {"target": "2"})
    assert bad.status_code == 400
    assert "target" in bad.text


def test_plan_home_takes_a_manager_to_their_branch(setup, branch_manager):
    from django.test import Client

    client = Client()
    client.force_login(branch_manager)
    response = client.get("/plan/")
    assert response.status_code == 302
    assert response["Location"] == "/plan/gran-via/"
    assert "Staffing plan" in client.get("/console/").text
