"""What every context's API shares: the error body."""

from ninja import Schema


class ErrorOut(Schema):
    """Every 4xx answer: a sentence for people, a code for programs, and the field at fault."""

    detail: str
    code: str
    field: str | None = None
