"""The REST API: one NinjaAPI, one router per context, one error shape (OpenAPI at /api/docs)."""

from django.db import connection
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from frontdesk.core.api import JSONRenderer
from frontdesk.core.errors import DomainError, NotAuthenticated
from frontdesk.queueing.api import public_router
from frontdesk.queueing.api import router as queueing_router
from frontdesk.staffing.api import router as staffing_router

api = NinjaAPI(
    title="Frontdesk API",
    version="1",
    description=(
        "Walk-in queue and the rest of Frontdesk. Authenticate with `Authorization: Bearer fd_…` "
        "(tokens carry scopes) or a staff session. Every 4xx answers with `{detail, code, field}`."
    ),
    urls_namespace="api",
    renderer=JSONRenderer(),
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, error: DomainError) -> HttpResponse:
    return api.create_response(
        request, {"detail": error.message, "code": error.code, "field": error.field}, status=error.status_code
    )


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, error: ValidationError) -> HttpResponse:
    first = error.errors[0] if error.errors else {}
    location = [
        str(part) for part in first.get("loc", []) if part not in ("body", "payload", "query", "path")
    ]
    field = ".".join(location) or None
    message = first.get("msg", "Invalid input.")
    return api.create_response(
        request,
        {
            "detail": f"{field}: {message}" if field else message,
            "code": "invalid",
            "field": field,
            "errors": error.errors,
        },
        status=422,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": NotAuthenticated.MESSAGE, "code": NotAuthenticated.code, "field": None},
        status=401,
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(error), "code": "error", "field": None}, status=error.status_code
    )


@api.get("/health", tags=["health"], auth=None, summary="Liveness: answers without touching the database")
def health(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}


@api.get("/health/database", tags=["health"], auth=None, summary="Readiness: one database read")
def health_database(request: HttpRequest) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": "ok"}


api.add_router("/queueing", queueing_router)
api.add_router("/public", public_router)
api.add_router("/staffing", staffing_router)
