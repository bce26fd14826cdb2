"""A customer walks in and is served, watched from every screen at once, in a real browser."""

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Page, expect

from frontdesk.queueing.models import Visit, VisitStatus
from tests.server import running_server

pytestmark = pytest.mark.django_db(transaction=True)


class PageWatch:
    """Collects what a person would never want to see: console errors, CSP violations, foreign hosts."""

    def __init__(self, page: Page, host: str) -> None:
        self.problems: list[str] = []
        page.on("console", lambda message: self._console(message.type, message.text))
        page.on("request", lambda request: self._request(request.url, host))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def _console(self, kind: str, text: str) -> None:
        if kind == "error" or "Content Security Policy" in text:
            self.problems.append(f"console {kind}: {text}")

    def _request(self, url: str, host: str) -> None:
        if urlparse(url).netloc not in (host, "") and not url.startswith("data:"):
            self.problems.append(f"request to another host: {url}")


def test_kiosk_to_console_to_board_to_ticket_page_to_finish(setup, clerk, browser, screenshots):
    with running_server() as base:
        host = urlparse(base).netloc
        board_context = browser.new_context(viewport={"width": 1600, "height": 900})
        board = board_context.new_page()
        console_context = browser.new_context(viewport={"width": 1280, "height": 860})
        console = console_context.new_page()
        customer_context = browser.new_context(viewport={"width": 1180, "height": 820})
        kiosk = customer_context.new_page()
        watches = [PageWatch(page, host) for page in (board, console, kiosk)]

        board.goto(f"{base}/display/gran-via/")
        expect(board.locator("body")).to_have_attribute("data-connection", "live")

        console.goto(f"{base}/accounts/login/?next=/console/")
        console.fill("input[name=username]", "clara")
        console.fill("input[name=password]", "pass-1234-word")
        console.click("button.primary")
        console.get_by_role("button", name=re.compile("Counter 1")).click()
        expect(console.locator("h1")).to_contain_text("Counter 1")
        expect(console.locator("body")).to_have_attribute("data-connection", "live")
        expect(console.locator("#queue")).to_contain_text("Nobody is waiting.")

        # The customer takes a ticket at the kiosk.
        kiosk.goto(f"{base}/kiosk/gran-via/")
        kiosk.screenshot(path=screenshots / "kiosk.png")
        kiosk.get_by_text("General enquiries").click()
        expect(kiosk.locator("[data-ticket-code]")).to_have_text("A-001")
        kiosk.screenshot(path=screenshots / "kiosk-ticket.png")
        qr_source = kiosk.locator(".qr img").get_attribute("src")
        assert qr_source is not None
        ticket_path = qr_source.removesuffix("qr.svg")

        # Without a reload, the ticket appears on the staff console.
        expect(console.locator("#queue [data-ticket='A-001']")).to_be_visible(timeout=5000)

        # The customer follows the QR code to the live ticket page.
        phone = customer_context.new_page()
        watches.append(PageWatch(phone, host))
        phone.set_viewport_size({"width": 390, "height": 844})
        phone.goto(base + ticket_path)
        expect(phone.locator(".position")).to_have_text("You are next in line.")
        phone.screenshot(path=screenshots / "ticket-waiting.png")

        console.get_by_role("button", name="Call next").click()
        expect(console.locator(".current .ticket-code")).to_have_text("A-001")

        # The board shows the call with the counter, and chimes.
        expect(board.locator("[data-latest-ticket]")).to_have_text("A-001", timeout=5000)
        expect(board.locator("[data-latest-counter]")).to_have_text("Counter 1")
        expect(board.locator("body")).to_have_attribute("data-chimes", "1")
        board.screenshot(path=screenshots / "board.png")

        # The customer's page says where to go.
        expect(phone.locator(".go-to")).to_have_text("It's your turn: go to Counter 1", timeout=5000)
        phone.screenshot(path=screenshots / "ticket-called.png")

        console.get_by_role("button", name="Customer is here: start").click()
        # The step reloads the page: look at it once it shows the serving state, not mid-navigation.
        expect(console.get_by_role("button", name="Finish", exact=True)).to_be_visible()
        console.screenshot(path=screenshots / "console-serving.png")
        console.select_option("select[name=outcome]", "resolved")
        console.fill("textarea[name=note]", "Explained the new tariff")
        console.get_by_role("button", name="Finish", exact=True).click()
        expect(console.locator(".current .idle")).to_be_visible()

        expect(phone.locator(".done")).to_have_text("Thank you for your visit.", timeout=5000)
        visit = Visit.objects.get()
        assert visit.status == VisitStatus.DONE
        assert visit.note == "Explained the new tariff"
        assert [step.action for step in visit.transitions.all()] == ["check_in", "call", "start", "finish"]

        problems = [problem for watch in watches for problem in watch.problems]
        assert problems == []
        for context in (board_context, console_context, customer_context):
            context.close()


def test_manager_sees_the_queue_live(setup, branch_manager, browser, screenshots):
    from frontdesk.queueing import services

    with running_server() as base:
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        page = context.new_page()
        watch = PageWatch(page, urlparse(base).netloc)
        page.goto(f"{base}/accounts/login/?next=/manage/gran-via/")
        page.fill("input[name=username]", "marta")
        page.fill("input[name=password]", "pass-1234-word")
        page.click("button.primary")
        expect(page.locator("body")).to_have_attribute("data-connection", "live")
        waiting = page.locator("#live tbody tr", has_text="General enquiries").locator("td").nth(1)
        expect(waiting).to_have_text("0")
        services.check_in(branch=setup.branch, service=setup.general)
        expect(waiting).to_have_text("1", timeout=5000)
        page.screenshot(path=screenshots / "manager.png")
        assert watch.problems == []
        context.close()


def test_kiosk_in_spanish(setup, browser, screenshots):
    with running_server() as base:
        context = browser.new_context(viewport={"width": 1180, "height": 820})
        page = context.new_page()
        page.goto(f"{base}/kiosk/gran-via/")
        page.get_by_role("button", name="Español").click()
        expect(page.locator("h2").first).to_have_text("¿En qué podemos ayudarle hoy?")
        expect(page.get_by_text("Consultas generales")).to_be_visible()
        page.screenshot(path=screenshots / "kiosk-es.png")
        context.close()


def test_board_reconnects_after_a_server_restart_and_catches_up(setup, clerk, browser):
    from frontdesk.queueing import services
    from tests.server import free_port

    port = free_port()
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    board = context.new_page()
    with running_server(port=port) as base:
        board.goto(f"{base}/display/gran-via/")
        expect(board.locator("body")).to_have_attribute("data-connection", "live")
    # The server is gone: the board says so, and keeps trying.
    expect(board.locator("body")).to_have_attribute("data-connection", "reconnecting", timeout=5000)
    services.check_in(branch=setup.branch, service=setup.general)
    services.open_counter(staff_member=clerk, service_point=setup.counter_2)
    services.call_next(staff_member=clerk, service_point=setup.counter_2)  # called while the board was away
    with running_server(port=port):
        expect(board.locator("body")).to_have_attribute("data-connection", "live", timeout=15000)
        expect(board.locator("[data-latest-ticket]")).to_have_text("A-001", timeout=5000)
        expect(board.locator("[data-latest-counter]")).to_have_text("Counter 2")
    context.close()
