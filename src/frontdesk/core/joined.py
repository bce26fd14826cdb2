"""A fixed read of one model with some of its foreign keys joined, compiled once and run many times.

The ORM builds and compiles a query anew on every call; for a ``select_related`` over five tables
that was about 2 ms of CPU, more than the rest of a counter's API request (BENCHMARKS.md). For the
few reads every request makes, :class:`JoinedRead` writes the ``SELECT … JOIN`` once, applies
the same value conversions as the ORM (dates on SQLite, UUIDs, phone numbers) and fills the related
objects the way ``select_related`` does. Only the ``WHERE`` clause is given per call. Everything
else reads through the ORM.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import connection
from django.db.models import ForeignKey, Model


class JoinedRead[M: Model]:
    """``model`` aliased ``t0`` with each foreign key in ``related`` joined as ``t1``, ``t2``, …"""

    def __init__(self, model: type[M], related: Sequence[str]) -> None:
        self.model = model
        self.foreign_keys: list[ForeignKey[Any, Any]] = []
        self.models: list[type[Model]] = [model]
        joins = []
        for index, name in enumerate(related, start=1):
            field = model._meta.get_field(name)
            assert isinstance(field, ForeignKey), name
            target: type[Model] = field.related_model
            kind = "LEFT OUTER JOIN" if field.null else "INNER JOIN"
            joins.append(
                f"{kind} {target._meta.db_table} t{index}"
                f" ON t{index}.{target._meta.pk.column} = t0.{field.column}"
            )
            self.foreign_keys.append(field)
            self.models.append(target)
        columns = [
            f"t{index}.{field.column}"
            for index, each in enumerate(self.models)
            for field in each._meta.concrete_fields
        ]
        self.select = f"SELECT {', '.join(columns)} FROM {model._meta.db_table} t0 {' '.join(joins)}"
        self._converters: dict[str, list[tuple[list[Callable[..., Any]], Any]]] = {}

    def first(self, where: str, params: Mapping[str, Any]) -> M | None:
        """The first row matching ``where`` (SQL over the aliases), as an instance with its relations."""
        with connection.cursor() as cursor:
            cursor.execute(f"{self.select} WHERE {where} LIMIT 1", params)
            row = cursor.fetchone()
        if row is None:
            return None
        converters = self._converters_for_connection()
        values = [
            _convert(value, column_converters)
            for value, column_converters in zip(row, converters, strict=True)
        ]
        start = 0
        instances: list[Model | None] = []
        for each in self.models:
            fields = each._meta.concrete_fields
            chunk = values[start : start + len(fields)]
            start += len(fields)
            if chunk[[field.primary_key for field in fields].index(True)] is None:
                instances.append(None)  # an empty outer join: no related object
            else:
                instances.append(each.from_db(connection.alias, None, chunk))  # type: ignore[arg-type]
        root = instances[0]
        assert isinstance(root, self.model)
        for field, related in zip(self.foreign_keys, instances[1:], strict=True):
            field.set_cached_value(root, related)
        return root

    def _converters_for_connection(self) -> list[tuple[list[Callable[..., Any]], Any]]:
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for each in self.models:
                for field in each._meta.concrete_fields:
                    column = field.get_col(each._meta.db_table)
                    converters = [
                        *connection.ops.get_db_converters(column),
                        *field.get_db_converters(connection),
                    ]
                    found.append((converters, column))
            self._converters[connection.vendor] = found
        return found


def _convert(value: Any, converters: tuple[list[Callable[..., Any]], Any]) -> Any:
    functions, column = converters
    for function in functions:
        value = function(value, column, connection)
    return value
