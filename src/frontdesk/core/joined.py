"""Model instances from hand-written SQL, with the ORM's conversions worked out once per process.

The ORM builds and compiles a query anew on every call; for a ``select_related`` over five tables
that was about 2 ms of CPU, more than the rest of a counter's API request, and Django's own
``Model.objects.raw()`` works out its column mapping and converters again on every call too
(BENCHMARKS.md, decision 0002). For the few statements every request runs:

- :class:`ModelRows` turns a row holding every concrete column of a model, in field order, into an
  instance, applying the same value conversions as the ORM (dates on SQLite, UUIDs, phone
  numbers, JSON), worked out once per database vendor, and filling it as ``Model.__init__`` does
  without walking its general case field by field;
- :class:`JoinedRead` is a fixed ``SELECT … JOIN`` of a model and some of its foreign keys, filling
  the related objects the way ``select_related`` does; only the ``WHERE`` clause is given per call.

Everything else reads through the ORM.
"""

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection
from django.db.models import ForeignKey, Model
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init
from modeltranslation.fields import TranslationFieldDescriptor

type _Converters = list[tuple[int, list[Callable[..., Any]], Any]]

# The classes of attribute that, while Model.__init__ runs, keep a field's value in the instance's
# dictionary as given: Django's own (DeferredAttribute does not intercept assignment at all) and
# modeltranslation's, which stores the value untouched while the instance is being built.
_STORED_AS_GIVEN = (DeferredAttribute, ForeignKeyDeferredAttribute, TranslationFieldDescriptor)


class ModelRows[M: Model]:
    """Rows that start with every concrete column of ``model`` in field order (``columns()``)."""

    def __init__(self, model: type[M]) -> None:
        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.width = len(self.fields)
        self._pk_index = [field.primary_key for field in self.fields].index(True)
        self._converters: dict[str, _Converters] = {}
        self._attnames = [field.attname for field in self.fields]
        # Fields whose attribute does more with an assignment (a phone number parsed): assigned
        # through it, as Model.__init__ does.
        self._assigned = [
            (index, field.attname)
            for index, field in enumerate(self.fields)
            if type(getattr(model, field.attname, None)) not in _STORED_AS_GIVEN
        ]

    def columns(self, alias: str = "") -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(f"{prefix}{field.column}" for field in self.fields)

    def instance(self, row: Sequence[Any]) -> M | None:
        """The instance held by the row's first ``width`` values; None when its key is NULL (an empty
        outer join)."""
        if row[self._pk_index] is None:
            return None
        values = list(row[: self.width])
        for index, functions, column in self._for_connection():
            value = values[index]
            for function in functions:
                value = function(value, column, connection)
            values[index] = value
        return self._build(values)

    def _build(self, values: list[Any]) -> M:
        """The instance ``Model.from_db`` would make of a full row, made directly.

        ``Model.__init__`` assigns every field through its class attribute; for the six instances
        of a counter's press that walk was the largest part of reading its statement's rows
        (BENCHMARKS.md). Here the values go into the instance's dictionary where that attribute
        would have put them there unchanged, other fields are assigned through their attribute,
        and both signals are sent as ``__init__`` sends them.
        ``tests/core/test_joined.py`` holds each model read this way equal to the ORM's instance.
        """
        model = self.model
        pre_init.send(sender=model, args=values, kwargs={})
        instance = model.__new__(model)
        state = instance._state = ModelState()
        state.adding = False
        state.db = DEFAULT_DB_ALIAS  # the alias of ``connection``, which every read here uses
        instance.__dict__.update(zip(self._attnames, values, strict=True))
        for index, attname in self._assigned:
            setattr(instance, attname, values[index])
        post_init.send(sender=model, instance=instance)
        return instance

    def _for_connection(self) -> _Converters:
        """The columns that need converting on this database, with their converters (most need none)."""
        found = self._converters.get(connection.vendor)
        if found is None:
            found = []
            for index, field in enumerate(self.fields):
                column = field.get_col(self.model._meta.db_table)
                converters = [*connection.ops.get_db_converters(column), *field.get_db_converters(connection)]
                if converters:
                    found.append((index, converters, column))
            self._converters[connection.vendor] = found
        return found


class JoinedRead[M: Model]:
    """``model`` aliased ``t0`` with each foreign key in ``related`` joined as ``t1``, ``t2``, …"""

    def __init__(self, model: type[M], related: Sequence[str]) -> None:
        self.model = model
        self.foreign_keys: list[ForeignKey[Any, Any]] = []
        self.rows: list[ModelRows[Any]] = [ModelRows(model)]
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
            self.rows.append(ModelRows(target))
        columns = ", ".join(rows.columns(f"t{index}") for index, rows in enumerate(self.rows))
        self.select = f"SELECT {columns} FROM {model._meta.db_table} t0 {' '.join(joins)}"

    def first(self, where: str, params: Mapping[str, Any]) -> M | None:
        """The first row matching ``where`` (SQL over the aliases), as an instance with its relations."""
        with connection.cursor() as cursor:
            cursor.execute(f"{self.select} WHERE {where} LIMIT 1", params)
            row = cursor.fetchone()
        if row is None:
            return None
        start = 0
        instances: list[Model | None] = []
        for rows in self.rows:
            instances.append(rows.instance(row[start : start + rows.width]))
            start += rows.width
        root = instances[0]
        assert isinstance(root, self.model)
        for field, related in zip(self.foreign_keys, instances[1:], strict=True):
            field.set_cached_value(root, related)
        return root
