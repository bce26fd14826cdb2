"""``frontdesk plan``: the table for people, JSON for scripts, a clear error for bad input."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from .conftest import NEXT_MONDAY

pytestmark = pytest.mark.django_db


def test_plan_prints_a_table(setup, history):
    out = StringIO()
    call_command("plan", "--branch", "gran-via", "--target", "0.8", "--target-minutes", "10", stdout=out)
    text = out.getvalue()
    assert f"Gran Vía · week of {NEXT_MONDAY}" in text
    assert "cells: recommended/usually open" in text
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("time"))
    assert header.split()[1:] == [
        "Mon",
        "23",
        "Tue",
        "24",
        "Wed",
        "25",
        "Thu",
        "26",
        "Fri",
        "27",
        "Sat",
        "28",
    ]
    eleven = next(line for line in lines if line.startswith("11:00"))
    assert len(eleven.split()) == 1 + 6  # the time, then Monday to Saturday
    assert "!" in eleven  # the Monday peak is short of counters
    assert any(line.startswith("simulated") for line in lines)
    assert "forecast error on the last 14 days" in text


def test_plan_json_for_scripts(setup, frozen_now):
    out = StringIO()
    call_command(
        "plan", "--branch", "gran-via", "--json", "--no-simulation", "--week", "2026-03-02", stdout=out
    )
    plan = json.loads(out.getvalue())
    assert plan["week_start"] == "2026-03-02"
    assert plan["simulated"] is False
    assert len(plan["slots"]) == 6 * 18


def test_plan_refuses_bad_input_with_a_message(setup, frozen_now):
    with pytest.raises(CommandError, match="--target: The target is a share"):
        call_command("plan", "--branch", "gran-via", "--target", "80", stdout=StringIO())
    with pytest.raises(CommandError, match="No such branch"):
        call_command("plan", "--branch", "nowhere", stdout=StringIO())
    with pytest.raises(CommandError, match="is not a date"):
        call_command("plan", "--branch", "gran-via", "--week", "soon", stdout=StringIO())
