"""Instances built from hand-written rows (``core/joined.py``) are the ORM's instances.

``ModelRows`` fills an instance without ``Model.__init__``; every model the hot path reads that
way must come out with the same values, state and behaviour (translated names, phone numbers,
relations, saving) as ``Model.objects.get`` gives, on whichever database the suite runs.
"""

from typing import Any

import pytest
from django.db import connection
from django.db.models import Model
from django.db.models.signals import post_init
from django.utils import translation
from phonenumber_field.phonenumber import PhoneNumber

from frontdesk.accounts.models import StaffMember
from frontdesk.branches.models import Branch, Service, ServicePoint
from frontdesk.core.joined import ModelRows
from frontdesk.queueing import services
from frontdesk.queueing.models import Visit


def _read(model: type[Model], pk: Any) -> Model:
    rows = ModelRows(model)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {rows.columns()} FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s",
            [pk],
        )
        row = cursor.fetchone()
    instance = rows.instance(row)
    assert instance is not None
    return instance


def _fields(instance: Model) -> dict[str, Any]:
    return {key: value for key, value in vars(instance).items() if key != "_state"}


@pytest.fixture
def visit(setup, clerk) -> Visit:
    visit = services.check_in(
        branch=setup.branch, service=setup.business, customer_name="Ana", customer_phone="+34612345678"
    )
    services.open_counter(staff_member=clerk, service_point=setup.counter_1)
    services.call_next(staff_member=clerk, service_point=setup.counter_1)
    return Visit.objects.get(pk=visit.pk)


@pytest.mark.parametrize("model", [Visit, Service, ServicePoint, Branch, StaffMember])
def test_every_model_read_by_rows_equals_the_orms_instance(model, visit, clerk):
    pk = {
        Visit: visit.pk,
        Service: visit.service_id,
        ServicePoint: visit.service_point_id,
        Branch: visit.branch_id,
        StaffMember: clerk.pk,
    }[model]
    expected = model.objects.get(pk=pk)
    read = _read(model, pk)

    assert type(read) is model
    assert _fields(read) == _fields(expected)
    assert read._state.adding is False
    assert read._state.db == expected._state.db
    assert read == expected


def test_a_phone_number_is_parsed_as_the_orm_parses_it(visit):
    read = _read(Visit, visit.pk)
    assert isinstance(read.customer_phone, PhoneNumber)
    assert read.customer_phone.as_e164 == "+34612345678"


def test_translated_names_follow_the_active_language(setup):
    read = _read(Service, setup.business.pk)
    with translation.override("es"):
        assert read.name == "Clientes de empresa"
    with translation.override("en"):
        assert read.name == "Business customers"


def test_relations_and_saving_behave_as_on_an_orm_instance(visit, setup):
    read = _read(Visit, visit.pk)
    assert read.service == setup.business  # loaded on access like any foreign key
    read.note = "Brought the form"
    read.save(update_fields=["note"])  # an UPDATE of the row, not an INSERT of a new one
    assert Visit.objects.get(pk=visit.pk).note == "Brought the form"
    assert Visit.objects.count() == 1


def test_listeners_of_the_instance_signals_hear_of_it(setup):
    heard: list[Model] = []

    def listener(sender: type[Model], instance: Model, **kwargs: Any) -> None:
        heard.append(instance)

    post_init.connect(listener, sender=ServicePoint)
    try:
        read = _read(ServicePoint, setup.counter_1.pk)
    finally:
        post_init.disconnect(listener, sender=ServicePoint)
    assert heard == [read]
