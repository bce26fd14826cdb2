"""The display board: a full-screen page for a TV showing the tickets just called and where to go."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from frontdesk.core.errors import NotFound
from frontdesk.queueing import selectors


def board(request: HttpRequest, branch_slug: str) -> HttpResponse:
    """Ticket numbers and counters only, never names; the page reloads its state on every event."""
    try:
        branch = selectors.branch_get_public(slug=branch_slug)
    except NotFound as error:
        raise Http404(error.message) from error
    calls = selectors.board_calls(branch)
    context = {"branch": branch, "latest": calls[0] if calls else None, "earlier": calls[1:]}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "displays/board.html#calls", context)
    return render(request, "displays/board.html", context)
