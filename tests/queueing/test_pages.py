"""The queue's pages as people use them: kiosk, phone, ticket page, console, board, manager view."""

import re

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from frontdesk.queueing import services
from frontdesk.queueing.models import Visit, VisitAction, VisitStatus


@pytest.fixture
def at_counter_1(setup, clerk) -> Client:
    """The clerk's browser, signed in at Counter 1 through the console."""
    client = Client()
    client.force_login(clerk)
    response = client.post(f"/console/{setup.counter_1.pk}/open/")
    assert response.status_code == 302, response.content
    return client


def kiosk_post(client, setup, **fields):
    data = {"service": setup.general.pk, "idempotency_key": "k-1", **fields}
    return client.post("/kiosk/gran-via/", data)


def test_kiosk_lists_the_branch_services_and_issues_a_ticket(setup):
    client = Client()
    page = client.get("/kiosk/gran-via/")
    assert page.status_code == 200
    assert "General enquiries" in page.text
    assert "Business customers" in page.text
    response = kiosk_post(client, setup)
    assert response.status_code == 302
    ticket_page = client.get(response["Location"])
    assert "A-001" in ticket_page.text
    visit = Visit.objects.get()
    assert visit.channel == "kiosk"
    assert reverse("queueing:ticket_qr", kwargs={"public_id": visit.public_id}) in ticket_page.text
    qr = client.get(reverse("queueing:ticket_qr", kwargs={"public_id": visit.public_id}))
    assert qr["Content-Type"] == "image/svg+xml"
    assert b"<svg" in qr.content


def test_kiosk_double_tap_gives_one_ticket(setup):
    client = Client()
    kiosk_post(client, setup)
    kiosk_post(client, setup)
    assert Visit.objects.count() == 1


def test_kiosk_bad_phone_shows_the_error_and_issues_nothing(setup):
    response = kiosk_post(Client(), setup, customer_phone="not a phone")
    assert response.status_code == 400
    assert "does not look right" in response.text
    assert Visit.objects.count() == 0


def test_kiosk_speaks_spanish_when_asked(setup):
    client = Client()
    client.post("/i18n/setlang/", {"language": "es", "next": "/kiosk/gran-via/"})
    page = client.get("/kiosk/gran-via/")
    assert "Consultas generales" in page.text
    assert "¿En qué podemos ayudarle hoy?" in page.text
    assert 'lang="es"' in page.text


@override_settings(PUBLIC_CHECK_IN_RATE="3/m")
def test_public_check_in_is_rate_limited_per_client(setup):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for key in range(3):
        assert kiosk_post(client, setup, idempotency_key=f"k{key}").status_code == 302
    limited = kiosk_post(client, setup, idempotency_key="k-last")
    assert limited.status_code == 429
    assert "Too many tickets" in limited.text
    assert Visit.objects.count() == 3
    other_device = Client(REMOTE_ADDR="203.0.113.10")
    assert kiosk_post(other_device, setup, idempotency_key="k-other").status_code == 302


def test_phone_join_link_leads_to_the_live_ticket_page(setup):
    client = Client()
    assert client.get("/join/gran-via/qr.svg").status_code == 200
    response = client.post("/join/gran-via/", {"service": setup.business.pk, "idempotency_key": "p-1"})
    assert response.status_code == 302
    visit = Visit.objects.get()
    assert visit.channel == "web"
    assert response["Location"] == f"/t/{visit.public_id}/"


def test_ticket_page_shows_position_then_where_to_go(setup, clerk):
    first = services.check_in(branch=setup.branch, service=setup.general)
    mine = services.check_in(branch=setup.branch, service=setup.general, customer_name="Ana")
    services.check_in(branch=setup.branch, service=setup.general, customer_name="Someone Else")
    client = Client()
    page = client.get(f"/t/{mine.public_id}/").text
    assert "You are number 2 in line." in page
    assert "Someone Else" not in page
    assert "Estimated wait" in page
    services.open_counter(staff_member=clerk, service_point=setup.counter_2)
    services.call_next(staff_member=clerk, service_point=setup.counter_2)
    services.mark_no_show(staff_member=clerk, visit=first)
    services.call_next(staff_member=clerk, service_point=setup.counter_2)
    partial = client.get(f"/t/{mine.public_id}/", HTTP_HX_REQUEST="true").text
    assert "go to Counter 2" in partial
    assert "<html" not in partial


def test_customer_can_leave_the_queue(setup):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    client = Client()
    response = client.post(f"/t/{visit.public_id}/leave/")
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == VisitStatus.LEFT
    assert "You have left the queue." in client.get(f"/t/{visit.public_id}/").text


def test_unknown_ticket_is_a_404(db):
    assert Client().get("/t/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_board_shows_numbers_and_counters_never_names(setup, clerk):
    services.check_in(branch=setup.branch, service=setup.general, customer_name="Ana Privada")
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    page = Client().get("/display/gran-via/").text
    assert "A-001" in page
    assert "Counter 1" in page
    assert "Ana" not in page


def test_console_needs_sign_in(setup):
    response = Client().get(f"/console/{setup.counter_1.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_console_of_another_branch_is_not_found(setup, outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get(f"/console/{setup.counter_1.pk}/").status_code == 404
    client.post(f"/console/{setup.counter_1.pk}/open/")
    assert not outsider.counter_sessions.exists()


def test_choosing_a_counter_shows_who_is_at_the_taken_ones(setup, clerk, second_clerk):
    services.open_counter(staff_member=second_clerk, service_point=setup.counter_2)
    client = Client()
    client.force_login(clerk)
    page = client.get("/console/").text
    taken = re.search(r'<button class="counter-button" disabled>\s*<strong>Counter 2</strong>', page)
    assert taken is not None, page
    assert "Diego Soto is here" in page
    free = re.search(r'<button class="counter-button">\s*<strong>Counter 1</strong>', page)
    assert free is not None
    assert page.count("is here") == 1


def test_console_flow_sign_in_call_start_finish(setup, at_counter_1):
    services.check_in(branch=setup.branch, service=setup.general, customer_name="Ana López")
    client = at_counter_1
    page = client.get(f"/console/{setup.counter_1.pk}/").text
    assert "1 waiting" in page
    assert "Ana López" in page
    client.post(f"/console/{setup.counter_1.pk}/call-next/")
    visit = Visit.objects.get()
    page = client.get(f"/console/{setup.counter_1.pk}/").text
    assert "Customer is here: start" in page
    client.post(f"/console/{setup.counter_1.pk}/visits/{visit.pk}/start/")
    client.post(
        f"/console/{setup.counter_1.pk}/visits/{visit.pk}/finish/", {"outcome": "resolved", "note": "ok"}
    )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.DONE
    assert visit.outcome == "resolved"


def test_console_out_of_order_call_without_reason_is_refused(setup, at_counter_1):
    services.check_in(branch=setup.branch, service=setup.general)
    later = services.check_in(branch=setup.branch, service=setup.general)
    client = at_counter_1
    response = client.post(
        f"/console/{setup.counter_1.pk}/visits/{later.pk}/call/", {"reason": ""}, follow=True
    )
    assert "Say why this ticket is called out of order." in response.text
    later.refresh_from_db()
    assert later.status == VisitStatus.WAITING
    client.post(f"/console/{setup.counter_1.pk}/visits/{later.pk}/call/", {"reason": "Elderly customer"})
    assert later.transitions.filter(action=VisitAction.CALL_OUT_OF_ORDER, reason="Elderly customer").exists()


def test_reception_checks_someone_in_from_the_console(setup, clerk):
    client = Client()
    client.force_login(clerk)
    response = client.post(
        f"/console/{setup.counter_1.pk}/check-in/",
        {
            "service": setup.business.pk,
            "customer_name": "Eva",
            "priority_reason": "accessibility",
            "idempotency_key": "r-1",
        },
        follow=True,
    )
    assert "Checked in: ticket B-001." in response.text
    visit = Visit.objects.get()
    assert visit.channel == "reception"
    assert visit.priority_reason == "accessibility"


def test_console_refuses_impossible_steps_with_a_message(setup, clerk):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    client = Client()
    client.force_login(clerk)
    response = client.post(
        f"/console/{setup.counter_1.pk}/visits/{visit.pk}/finish/", {"outcome": "resolved"}, follow=True
    )
    assert "cannot be finished now" in response.text
    visit.refresh_from_db()
    assert visit.status == VisitStatus.WAITING


def test_manager_live_view_highlights_long_waits(setup, branch_manager, clerk):
    import datetime as dt

    import time_machine

    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        services.check_in(branch=setup.branch, service=setup.general)
    with time_machine.travel(start + dt.timedelta(minutes=30), tick=False):
        services.check_in(branch=setup.branch, service=setup.general)
        services.open_counter(staff_member=clerk, service_point=setup.counter_3)
        client = Client()
        client.force_login(branch_manager)
        page = client.get("/manage/gran-via/").text
    assert re.search(r"A-001</strong>\s*General enquiries", page)
    assert "Clara Ruiz" in page
    assert "Counters: 1 of 3 open" in page


def test_manager_sees_the_same_minutes_for_the_longest_wait_and_the_long_wait_list(setup, branch_manager):
    import datetime as dt

    import time_machine

    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        services.check_in(branch=setup.branch, service=setup.general)
    # 18 min 40 s: rounding would say 19 in the table while the list says 18.
    with time_machine.travel(start + dt.timedelta(minutes=18, seconds=40), tick=False):
        client = Client()
        client.force_login(branch_manager)
        page = client.get("/manage/gran-via/").text
    assert re.search(r'<td class="num">18 min</td>', page), page
    assert "18\xa0minutes" in page or "18 minutes" in page
    assert "19 min" not in page


def test_manager_cannot_see_another_branch(setup, outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get("/manage/gran-via/").status_code == 404


@pytest.mark.parametrize("path", ["/kiosk/gran-via/", "/display/gran-via/", "/join/gran-via/", "/"])
def test_public_pages_send_a_strict_content_security_policy(setup, path):
    response = Client().get(path)
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


def test_head_office_reads_visit_history_in_admin(setup, clerk, admin_client):
    visit = services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    listing = admin_client.get("/admin/queueing/visit/")
    assert "A-001" in listing.text
    detail = admin_client.get(f"/admin/queueing/visit/{visit.pk}/change/")
    assert detail.status_code == 200
    assert "Called" in detail.text


def test_console_finish_and_call_next_is_one_press(setup, at_counter_1):
    services.check_in(branch=setup.branch, service=setup.general, customer_name="Ana López")
    services.check_in(branch=setup.branch, service=setup.general, customer_name="Luis Gil")
    client = at_counter_1
    client.post(f"/console/{setup.counter_1.pk}/call-next/")
    ana = Visit.objects.get(customer_name="Ana López")
    client.post(f"/console/{setup.counter_1.pk}/visits/{ana.pk}/start/")
    page = client.get(f"/console/{setup.counter_1.pk}/").text
    assert "Finish and call next" in page

    response = client.post(
        f"/console/{setup.counter_1.pk}/visits/{ana.pk}/finish-and-call-next/",
        {"outcome": "resolved", "note": ""},
        follow=True,
    )
    assert "A-001 finished. Called A-002." in response.text
    assert "Luis Gil" in response.text  # now at the counter
    assert "Did not come: call next" in response.text

    luis = Visit.objects.get(customer_name="Luis Gil")
    response = client.post(
        f"/console/{setup.counter_1.pk}/visits/{luis.pk}/no-show-and-call-next/", follow=True
    )
    assert "A-002 marked as not shown. Nobody is waiting for Counter 1." in response.text
    ana.refresh_from_db()
    luis.refresh_from_db()
    assert (ana.status, ana.outcome, luis.status) == (VisitStatus.DONE, "resolved", VisitStatus.NO_SHOW)


def test_console_finish_and_call_next_without_an_outcome_changes_nothing(setup, at_counter_1):
    services.check_in(branch=setup.branch, service=setup.general)
    waiting = services.check_in(branch=setup.branch, service=setup.general)
    client = at_counter_1
    client.post(f"/console/{setup.counter_1.pk}/call-next/")
    current = Visit.objects.get(status=VisitStatus.CALLED)
    client.post(f"/console/{setup.counter_1.pk}/visits/{current.pk}/start/")
    response = client.post(
        f"/console/{setup.counter_1.pk}/visits/{current.pk}/finish-and-call-next/",
        {"outcome": ""},
        follow=True,
    )
    assert "Choose an outcome." in response.text
    current.refresh_from_db()
    waiting.refresh_from_db()
    assert (current.status, waiting.status) == (VisitStatus.SERVING, VisitStatus.WAITING)
