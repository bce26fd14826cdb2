"""The plan through the REST API: JSON for integrations, clear 4xx for bad input."""

import pytest
from django.test import Client

from frontdesk.accounts.services import create_api_token

from .conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db

URL = "/api/staffing/branches/gran-via/plan"


def api_client(staff, scopes=("queue:read",)) -> Client:
    _token, raw = create_api_token(staff_member=staff, name="Rota tool", scopes=list(scopes))
    client = Client()
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {raw}"
    return client


def test_the_plan_comes_back_as_json(setup, history, clerk):
    response = api_client(clerk).get(URL, {"target": "0.8", "target_minutes": "10"})
    assert response.status_code == 200, response.content
    plan = response.json()
    assert plan["branch"] == "gran-via"
    assert plan["week_start"] == str(NEXT_MONDAY)
    assert plan["target_seconds"] == 600
    assert plan["simulated"] is True
    assert len(plan["slots"]) == 6 * 18
    slot = next(s for s in plan["slots"] if s["date"] == str(NEXT_MONDAY) and s["start"] == "11:00")
    assert slot["forecast"] == pytest.approx(10, rel=0.15)
    assert set(slot["forecast_by_service"]) == {"A", "B"}
    assert slot["recommended"] >= 4
    assert slot["scheduled"] == 3
    assert slot["gap"] == slot["recommended"] - slot["scheduled"]
    assert 0 <= slot["expected_service_level"] < 0.8
    assert [s["ticket_letter"] for s in plan["services"]] == ["A", "B"]
    assert len(plan["simulation"]) == 6
    assert plan["forecast_accuracy"]["frontdesk_total"]["days"] == 14
    assert plan["hours"][0]["hour"] == 9


def test_what_if_through_the_api(setup, history, clerk):
    client = api_client(clerk)
    default = client.get(URL, {"simulate": "false"}).json()
    slower = client.get(URL, {"simulate": "false", "service_minutes": "25", "week": "2026-03-04"}).json()
    assert slower["week_start"] == "2026-03-02"
    assert slower["recommended_counter_hours"] > default["recommended_counter_hours"]
    assert {s["service_seconds"] for s in slower["services"]} == {1500}


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"target": "1.5"}, "target"),
        ({"target": "0"}, "target"),
        ({"target": "many"}, "target"),
        ({"target_minutes": "-5"}, "target_minutes"),
        ({"service_minutes": "0"}, "service_minutes"),
        ({"week": "2020-01-06"}, "week"),
        ({"week": "next tuesday"}, "week"),
    ],
)
def test_bad_input_gets_a_422_naming_the_field(setup, frozen_now, clerk, query, field):
    response = api_client(clerk).get(URL, query)
    assert response.status_code == 422, response.content
    body = response.json()
    assert body["field"] == field
    assert body["detail"]


def test_the_plan_is_only_for_staff_of_the_branch(setup, frozen_now, clerk, outsider):
    assert Client().get(URL).status_code == 401
    assert api_client(outsider).get(URL).status_code == 404
    no_scope = api_client(clerk, scopes=())
    forbidden = no_scope.get(URL)
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "forbidden"
    session = Client()
    session.force_login(clerk)
    assert session.get(URL, {"simulate": "false"}).status_code == 200
