"""The queue through the REST API: what integrations and the browser's scripts rely on."""

import pytest
from django.test import Client, override_settings

from frontdesk.accounts.models import ApiToken
from frontdesk.accounts.services import create_api_token
from frontdesk.queueing import services
from frontdesk.queueing.models import Visit, VisitStatus


def bearer(staff, scopes=("queue:read", "queue:write")) -> dict[str, str]:
    _token, raw = create_api_token(staff_member=staff, name="CRM", scopes=list(scopes))
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def api(clerk):
    client = Client()
    client.defaults.update(bearer(clerk))
    return client


def test_check_in_call_and_finish_through_the_api(setup, api):
    response = api.post(
        "/api/queueing/branches/gran-via/check-ins",
        {"service_id": setup.general.pk, "customer_name": "Ana", "customer_phone": "+34 612 345 678"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    ticket = response.json()
    assert ticket["ticket_code"] == "A-001"
    assert ticket["status"] == "waiting"
    # The link the integration hands to the customer opens their live ticket page.
    visit = Visit.objects.get(pk=ticket["id"])
    assert ticket["ticket_url"] == f"/t/{visit.public_id}/"
    page = Client().get(ticket["ticket_url"])
    assert page.status_code == 200
    assert "A-001" in page.content.decode()

    assert api.post(f"/api/queueing/counters/{setup.counter_1.pk}/open").status_code == 200
    called = api.post(f"/api/queueing/counters/{setup.counter_1.pk}/call-next")
    assert called.status_code == 200
    assert called.json()["counter"]["name"] == "Counter 1"
    visit_id = called.json()["id"]
    assert api.post(f"/api/queueing/visits/{visit_id}/start").status_code == 200
    finished = api.post(
        f"/api/queueing/visits/{visit_id}/finish",
        {"outcome": "resolved", "note": "Done"},
        content_type="application/json",
    )
    assert finished.status_code == 200
    detail = api.get(f"/api/queueing/visits/{visit_id}").json()
    assert [step["action"] for step in detail["transitions"]] == ["check_in", "call", "start", "finish"]
    assert detail["transitions"][1]["staff_member"] == "Clara Ruiz"


def test_queue_is_listed_in_calling_order(setup, api):
    services.check_in(branch=setup.branch, service=setup.general)
    services.check_in(branch=setup.branch, service=setup.general, priority_reason="accessibility")
    queue = api.get("/api/queueing/branches/gran-via/queue").json()
    general = next(entry for entry in queue if entry["service"]["ticket_letter"] == "A")
    assert [entry["ticket_code"] for entry in general["waiting"]] == ["A-002", "A-001"]


def test_bad_input_gets_a_json_reason_and_changes_nothing(setup, api):
    cases = [
        ({"service_id": 999999}, 404),
        ({"service_id": "x"}, 422),
        ({}, 422),
        ({"service_id": setup.general.pk, "customer_phone": "12"}, 400),
        ({"service_id": setup.general.pk, "priority_reason": "bribe"}, 422),
    ]
    for body, status in cases:
        response = api.post(
            "/api/queueing/branches/gran-via/check-ins", body, content_type="application/json"
        )
        assert response.status_code == status, (body, response.content)
        assert response.json()["detail"]
    malformed = api.post(
        "/api/queueing/branches/gran-via/check-ins", "{not json", content_type="application/json"
    )
    assert 400 <= malformed.status_code < 500
    assert Visit.objects.count() == 0


def test_impossible_transition_is_a_409_with_the_reason(setup, api):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    response = api.post(
        f"/api/queueing/visits/{visit.pk}/finish", {"outcome": "resolved"}, content_type="application/json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "detail": "A-001 is waiting: it cannot be finished now.",
        "code": "invalid_transition",
        "field": None,
    }


def test_empty_queue_is_a_409(setup, api):
    api.post(f"/api/queueing/counters/{setup.counter_1.pk}/open")
    response = api.post(f"/api/queueing/counters/{setup.counter_1.pk}/call-next")
    assert response.status_code == 409
    assert response.json()["code"] == "queue_empty"


def test_out_of_order_call_needs_a_reason(setup, api):
    services.check_in(branch=setup.branch, service=setup.general)
    later = services.check_in(branch=setup.branch, service=setup.general)
    api.post(f"/api/queueing/counters/{setup.counter_1.pk}/open")
    refused = api.post(
        f"/api/queueing/visits/{later.pk}/call",
        {"counter_id": setup.counter_1.pk, "reason": ""},
        content_type="application/json",
    )
    assert refused.status_code == 422
    later.refresh_from_db()
    assert later.status == VisitStatus.WAITING
    accepted = api.post(
        f"/api/queueing/visits/{later.pk}/call",
        {"counter_id": setup.counter_1.pk, "reason": "Appointment came early"},
        content_type="application/json",
    )
    assert accepted.status_code == 200


def test_transfer_through_the_api_keeps_arrival(setup, api):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    response = api.post(
        f"/api/queueing/visits/{visit.pk}/transfer",
        {"service_id": setup.business.pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["service"]["ticket_letter"] == "B"
    assert body["ticket_code"] == "A-001"
    assert body["arrived_at"].startswith(visit.arrived_at.isoformat()[:19])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/queueing/branches/gran-via/queue"),
        ("get", "/api/queueing/branches/gran-via/live"),
        ("get", "/api/queueing/branches/gran-via/visits"),
        ("post", "/api/queueing/branches/gran-via/check-ins"),
        ("post", "/api/queueing/counters/{counter}/open"),
        ("post", "/api/queueing/counters/{counter}/call-next"),
        ("post", "/api/queueing/visits/{visit}/recall"),
        ("post", "/api/queueing/visits/{visit}/put-back"),
    ],
)
def test_permission_matrix(setup, clerk, outsider, method, path):
    """Anonymous → 401; staff of another branch → 404 and nothing changes; a read-only token cannot write."""
    visit = services.check_in(branch=setup.branch, service=setup.general)
    url = path.format(counter=setup.counter_1.pk, visit=visit.pk)
    body = {"service_id": setup.general.pk}
    before = sorted(Visit.objects.values_list("id", "status"))

    anonymous = getattr(Client(), method)(url, body, content_type="application/json")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthenticated"

    stranger = Client(**bearer(outsider))
    foreign = getattr(stranger, method)(url, body, content_type="application/json")
    assert foreign.status_code in (403, 404)
    assert sorted(Visit.objects.values_list("id", "status")) == before

    if method == "post":
        reader = Client(**bearer(clerk, scopes=("queue:read",)))
        read_only = reader.post(url, body, content_type="application/json")
        assert read_only.status_code == 403
        assert sorted(Visit.objects.values_list("id", "status")) == before


def test_revoked_token_is_refused(setup, clerk):
    token, raw = create_api_token(staff_member=clerk, name="old", scopes=["queue:read"])
    token.revoked_at = token.created_at
    token.save()
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/queueing/branches")
    assert response.status_code == 401
    assert ApiToken.objects.filter(key_hash=token.key_hash).exists()


def test_session_writes_need_csrf(setup, clerk):
    client = Client(enforce_csrf_checks=True)
    client.force_login(clerk)
    response = client.post(f"/api/queueing/counters/{setup.counter_1.pk}/open")
    assert response.status_code == 403
    assert not clerk.counter_sessions.exists()


def test_public_ticket_reveals_only_that_ticket(setup):
    mine = services.check_in(branch=setup.branch, service=setup.general, customer_name="Ana Secret")
    services.check_in(branch=setup.branch, service=setup.general, customer_name="Luis Private")
    body = Client().get(f"/api/public/tickets/{mine.public_id}").json()
    assert body["ticket_code"] == "A-001"
    assert body["position"] == 1
    assert "Secret" not in str(body)
    assert "Private" not in str(body)
    assert Client().get("/api/public/tickets/00000000-0000-0000-0000-000000000000").status_code == 404
    assert Client().get("/api/public/tickets/not-a-uuid").status_code == 422


def test_public_check_in_and_leave(setup):
    client = Client()
    created = client.post(
        "/api/public/branches/gran-via/check-ins",
        {"service_id": setup.general.pk},
        content_type="application/json",
    )
    assert created.status_code == 201
    visit = Visit.objects.get()
    assert visit.channel == "web"
    left = client.post(f"/api/public/tickets/{visit.public_id}/leave")
    assert left.json()["status"] == "left"


def test_openapi_schema_is_served(db):
    schema = Client().get("/api/openapi.json").json()
    assert "/api/queueing/counters/{counter_id}/call-next" in schema["paths"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/queueing/branches/gran-via/visits",
        "/api/queueing/branches/gran-via/queue",
        "/api/queueing/branches/gran-via/live",
    ],
)
def test_list_endpoints_use_a_constant_number_of_queries(setup, api, django_assert_max_num_queries, path):
    def fill(count):
        for _ in range(count):
            services.check_in(branch=setup.branch, service=setup.general)
            services.check_in(branch=setup.branch, service=setup.business)

    fill(2)
    api.get(path)  # warm the token lookup path
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        assert api.get(path).status_code == 200
    fill(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api.get(path).status_code == 200


def test_a_write_token_may_also_read(setup, clerk):
    client = Client(**bearer(clerk, scopes=("queue:write",)))
    assert client.get("/api/queueing/branches/gran-via/queue").status_code == 200


@override_settings(PUBLIC_CHECK_IN_RATE="2/m")
def test_public_api_check_in_is_rate_limited_per_client(setup):
    client = Client(REMOTE_ADDR="198.51.100.7")
    for _ in range(2):
        ok = client.post(
            "/api/public/branches/gran-via/check-ins",
            {"service_id": setup.general.pk},
            content_type="application/json",
        )
        assert ok.status_code == 201
    limited = client.post(
        "/api/public/branches/gran-via/check-ins",
        {"service_id": setup.general.pk},
        content_type="application/json",
    )
    assert limited.status_code == 429
    assert Visit.objects.count() == 2


def test_end_and_call_next_ends_the_visit_and_calls_the_next_in_one_request(setup, api):
    first = services.check_in(branch=setup.branch, service=setup.general)
    second = services.check_in(branch=setup.branch, service=setup.general)
    counter = setup.counter_1.pk
    assert api.post(f"/api/queueing/counters/{counter}/open").status_code == 200
    assert api.post(f"/api/queueing/counters/{counter}/call-next").json()["id"] == first.pk
    assert api.post(f"/api/queueing/visits/{first.pk}/start").status_code == 200

    url = f"/api/queueing/counters/{counter}/end-and-call-next"
    response = api.post(
        url,
        {"visit_id": first.pk, "end_as": "finish", "outcome": "resolved", "note": "Card sent"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ended"]["status"] == "done"
    assert body["called"]["ticket_code"] == second.ticket_code
    assert body["called"]["counter"]["name"] == "Counter 1"
    first.refresh_from_db()
    assert (first.outcome, first.note) == ("resolved", "Card sent")

    # The customer called next does not come, and nobody else waits: ended all the same.
    response = api.post(url, {"visit_id": second.pk, "end_as": "no_show"}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["ended"]["status"] == "no_show"
    assert response.json()["called"] is None
    actions = [t.action for t in second.transitions.order_by("at", "id")]
    assert actions == ["check_in", "call", "no_show"]


def test_one_press_answers_each_visit_with_its_own_service(setup, api):
    """The called visit shares the ended one's counter and branch, and its service only when it is
    the same one: a customer of another service is answered with theirs."""
    general = services.check_in(branch=setup.branch, service=setup.general)
    business = services.check_in(branch=setup.branch, service=setup.business)
    counter = setup.counter_1.pk
    assert api.post(f"/api/queueing/counters/{counter}/open").status_code == 200
    assert api.post(f"/api/queueing/counters/{counter}/call-next").json()["id"] == general.pk
    response = api.post(
        f"/api/queueing/counters/{counter}/end-and-call-next",
        {"visit_id": general.pk, "end_as": "no_show"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    ended, called = response.json()["ended"], response.json()["called"]
    assert (ended["ticket_code"], ended["service"]["ticket_letter"]) == ("A-001", "A")
    assert (called["id"], called["ticket_code"]) == (business.pk, "B-001")
    assert (called["service"]["name"], called["service"]["expected_duration_minutes"]) == (
        "Business customers",
        15,
    )
    for visit in (ended, called):
        assert (visit["counter"]["name"], visit["branch"]) == ("Counter 1", "gran-via")
    assert called["ticket_url"] == f"/t/{business.public_id}/"


def test_end_and_call_next_refuses_bad_input_and_changes_nothing(setup, api):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    waiting = services.check_in(branch=setup.branch, service=setup.general)
    counter = setup.counter_1.pk
    api.post(f"/api/queueing/counters/{counter}/open")
    api.post(f"/api/queueing/counters/{counter}/call-next")
    url = f"/api/queueing/counters/{counter}/end-and-call-next"
    cases = [
        ({"visit_id": visit.pk, "end_as": "finish"}, 400, "Choose an outcome."),  # served needs an outcome
        ({"visit_id": visit.pk, "end_as": "finish", "outcome": "resolved"}, 409, "cannot be finished"),
        ({"visit_id": visit.pk, "end_as": "vanished"}, 422, None),
        ({"visit_id": waiting.pk, "end_as": "no_show"}, 400, "is not at Counter 1"),
        ({"visit_id": 999999, "end_as": "no_show"}, 404, None),
    ]
    for body, status, says in cases:
        response = api.post(url, body, content_type="application/json")
        assert response.status_code == status, (body, response.content)
        assert response.json()["detail"]
        if says:
            assert says in response.json()["detail"], response.json()
    visit.refresh_from_db()
    waiting.refresh_from_db()
    assert (visit.status, waiting.status) == (VisitStatus.CALLED, VisitStatus.WAITING)
    assert visit.transitions.count() == 2
    assert waiting.transitions.count() == 1


def test_end_and_call_next_at_someone_else_s_counter_is_refused(setup, api, second_clerk):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=second_clerk, service_point=setup.counter_2)
    services.call_next(staff_member=second_clerk, service_point=setup.counter_2)
    api.post(f"/api/queueing/counters/{setup.counter_1.pk}/open")
    response = api.post(
        f"/api/queueing/counters/{setup.counter_1.pk}/end-and-call-next",
        {"visit_id": visit.pk, "end_as": "no_show"},
        content_type="application/json",
    )
    assert response.status_code == 400
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CALLED


def test_end_and_call_next_from_another_branch_is_not_found_and_changes_nothing(setup, clerk, outsider):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    waiting = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    stranger = Client()
    stranger.defaults.update(bearer(outsider))
    response = stranger.post(
        f"/api/queueing/counters/{setup.counter_1.pk}/end-and-call-next",
        {"visit_id": visit.pk, "end_as": "no_show"},
        content_type="application/json",
    )
    assert response.status_code == 404, response.content
    assert response.json()["detail"]
    read_only = Client()
    read_only.defaults.update(bearer(clerk, scopes=("queue:read",)))
    response = read_only.post(
        f"/api/queueing/counters/{setup.counter_1.pk}/end-and-call-next",
        {"visit_id": visit.pk, "end_as": "no_show"},
        content_type="application/json",
    )
    assert response.status_code == 403, response.content
    visit.refresh_from_db()
    waiting.refresh_from_db()
    assert (visit.status, waiting.status) == (VisitStatus.CALLED, VisitStatus.WAITING)


def test_ticket_links_follow_the_script_prefix_the_site_is_served_under(setup):
    """Behind a proxy at /frontdesk/ (the WSGI handler sets the prefix from SCRIPT_NAME on every
    request), ticket links start with it, and go back when it changes."""
    from django.urls import set_script_prefix

    from frontdesk.queueing.links import ticket_path

    visit = services.check_in(branch=setup.branch, service=setup.general)
    set_script_prefix("/frontdesk/")
    try:
        assert ticket_path(visit.public_id) == f"/frontdesk/t/{visit.public_id}/"
    finally:
        set_script_prefix("/")
    assert ticket_path(visit.public_id) == f"/t/{visit.public_id}/"


def _called_at_counter_1(setup, staff_member):
    """A visit called to counter 1 by ``staff_member`` and another waiting behind it."""
    visit = services.check_in(branch=setup.branch, service=setup.general)
    waiting = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=staff_member, service_point=setup.counter_1)
    services.call_next(staff_member=staff_member, service_point=setup.counter_1)
    return visit, waiting


def _press(client, setup, visit):
    return client.post(
        f"/api/queueing/counters/{setup.counter_1.pk}/end-and-call-next",
        {"visit_id": visit.pk, "end_as": "no_show"},
        content_type="application/json",
    )


def test_a_press_takes_a_token_read_before_on_trust_and_checks_it_in_its_statement(setup, clerk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    visit, waiting = _called_at_counter_1(setup, clerk)
    last = services.check_in(branch=setup.branch, service=setup.general)
    client = Client(**bearer(clerk))
    assert client.get("/api/queueing/branches").status_code == 200  # this process reads the token
    # The first press after the fixtures wrote the catalogue reads the counter, service and
    # branch it names once (branches.selectors.reference_row).
    assert _press(client, setup, visit).json()["called"]["id"] == waiting.pk
    with CaptureQueriesContext(connection) as queries:
        response = _press(client, setup, waiting)
    assert response.status_code == 200, response.content
    assert response.json()["called"]["id"] == last.pk
    if connection.vendor == "postgresql":  # one statement, the token's check inside it
        assert len(queries) == 1, [q["sql"][:80] for q in queries]
        assert "apitoken" in queries[0]["sql"]


@pytest.mark.parametrize("change", ["revoked", "owner deactivated", "write scope withdrawn"])
def test_a_token_changed_after_it_was_read_is_refused_by_the_press_and_changes_nothing(setup, clerk, change):
    visit, waiting = _called_at_counter_1(setup, clerk)
    headers = bearer(clerk)
    client = Client(**headers)
    assert client.get("/api/queueing/branches").status_code == 200  # remembered by this process
    token = ApiToken.objects.get(staff_member=clerk, name="CRM")
    if change == "revoked":
        ApiToken.objects.filter(pk=token.pk).update(revoked_at=token.created_at)
    elif change == "owner deactivated":
        type(clerk).objects.filter(pk=clerk.pk).update(is_active=False)
    else:
        ApiToken.objects.filter(pk=token.pk).update(scopes=["queue:read"])
    response = _press(client, setup, visit)
    assert response.status_code == (403 if change == "write scope withdrawn" else 401), response.content
    assert response.json()["code"] in {"forbidden", "unauthenticated"}
    visit.refresh_from_db()
    waiting.refresh_from_db()
    assert (visit.status, waiting.status) == (VisitStatus.CALLED, VisitStatus.WAITING)
    assert visit.transitions.count() == 2  # check-in and call only


def test_head_office_demoted_after_its_token_was_read_may_no_longer_press_at_a_branch_not_its_own(
    setup, outsider
):
    type(outsider).objects.filter(pk=outsider.pk).update(role="head_office")
    outsider.refresh_from_db()
    visit, waiting = _called_at_counter_1(setup, outsider)
    client = Client(**bearer(outsider))
    assert client.get("/api/queueing/branches").status_code == 200  # remembered as head office
    type(outsider).objects.filter(pk=outsider.pk).update(role="clerk")
    response = _press(client, setup, visit)
    assert response.status_code == 404, response.content
    visit.refresh_from_db()
    waiting.refresh_from_db()
    assert (visit.status, waiting.status) == (VisitStatus.CALLED, VisitStatus.WAITING)
