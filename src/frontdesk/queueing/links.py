"""Links to a visit's live ticket page."""

import functools
import uuid

from django.urls import get_script_prefix, get_urlconf, reverse

_PLACEHOLDER = uuid.UUID(int=0)


def ticket_path(public_id: uuid.UUID) -> str:
    """The path of the visit's live ticket page (``queueing:ticket``).

    Every API answer about a visit carries it, and ``reverse`` walks the URL configuration anew on
    each call (about 90 function calls, twice per counter press): the path is reversed once per
    script prefix and URL configuration, and the id put in its place.
    """
    return _ticket_path_pattern(get_script_prefix(), get_urlconf()).replace(str(_PLACEHOLDER), str(public_id))


@functools.lru_cache(maxsize=16)
def _ticket_path_pattern(script_prefix: str, urlconf: str | None) -> str:
    return reverse("queueing:ticket", kwargs={"public_id": _PLACEHOLDER}, urlconf=urlconf)
