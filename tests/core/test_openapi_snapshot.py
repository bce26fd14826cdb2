"""The API is a promise: its schema is committed (docs/api/openapi.json) and any change shows in review.

Regenerate after an intended change with ``make api-schema``.
"""

import json
from pathlib import Path

from frontdesk.config.api import api

SNAPSHOT = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.json"


def current_schema() -> str:
    return json.dumps(api.get_openapi_schema(), indent=2, sort_keys=True) + "\n"


def test_openapi_schema_matches_the_committed_snapshot():
    assert SNAPSHOT.read_text() == current_schema(), "API changed: run `make api-schema` and review the diff"


def test_every_operation_declares_its_error_answers():
    schema = json.loads(current_schema())
    for path, operations in schema["paths"].items():
        if path.startswith("/api/health"):
            continue
        for method, operation in operations.items():
            answers = set(operation["responses"])
            assert {"404", "422"} <= answers, (method, path, answers)
