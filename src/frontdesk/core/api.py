"""What every context's API shares: the error body and the JSON renderer."""

from typing import Any

import pydantic_core
from django.http import HttpRequest
from ninja import Schema
from ninja.renderers import BaseRenderer
from ninja.responses import NinjaJSONEncoder


class ErrorOut(Schema):
    """Every 4xx answer: a sentence for people, a code for programs, and the field at fault."""

    detail: str
    code: str
    field: str | None = None


class JSONRenderer(BaseRenderer):
    """JSON written by pydantic-core, the serializer the schemas already carry.

    django-ninja's own renderer runs ``json.dumps`` with a Python ``default`` for every date and
    time; a counter's press answers with two visits and a dozen of them, and this writes them in
    compiled code (BENCHMARKS.md). Times are RFC 3339 with microseconds (``…T09:00:00.123456Z``),
    durations ISO 8601 (``PT1M30S``); anything pydantic-core does not know (a lazy translation)
    goes through django-ninja's encoder as before.
    """

    media_type = "application/json"
    _fallback = NinjaJSONEncoder().default

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return pydantic_core.to_json(data, fallback=self._fallback)
