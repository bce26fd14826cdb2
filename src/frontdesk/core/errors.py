"""Domain errors: raised by services, turned into a clear message by views and a 4xx by the API."""


class DomainError(Exception):
    """A request that the domain refuses; ``message`` is shown to the person as it is."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidTransition(DomainError):
    """The object's lifecycle does not allow this step from its current state."""

    status_code = 409
    code = "invalid_transition"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"


class QueueEmpty(DomainError):
    """Nobody is waiting for the services a counter serves."""

    status_code = 409
    code = "queue_empty"


class NotAuthenticated(DomainError):
    """No valid credentials: an API token revoked or unknown, or no session."""

    status_code = 401
    code = "unauthenticated"
    MESSAGE = "Sign in or send a valid API token."
