"""The ``frontdesk`` command line."""

import json
import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def test_erlang_prints_the_published_reference_values():
    out = StringIO()
    call_command("erlang", arrivals_per_hour=200, service_minutes=3, agents=14, target_seconds=20, stdout=out)
    text = out.getvalue()
    assert "probability of waiting   0.1741" in text
    assert "served within 20 s       0.8884" in text


def test_erlang_json_finds_the_fewest_agents():
    out = StringIO()
    call_command("erlang", "--json", arrivals_per_hour=200, service_minutes=3, target_seconds=20, stdout=out)
    result = json.loads(out.getvalue())
    assert result["agents"] == 14
    assert result["meets_service_level"] is True
    one_less = StringIO()
    call_command(
        "erlang",
        "--json",
        arrivals_per_hour=200,
        service_minutes=3,
        target_seconds=20,
        agents=13,
        stdout=one_less,
    )
    assert json.loads(one_less.getvalue())["meets_service_level"] is False


def test_erlang_refuses_bad_input_with_a_message():
    with pytest.raises(CommandError, match="arrivals_per_hour"):
        call_command("erlang", arrivals_per_hour=-1, service_minutes=3, stdout=StringIO())


def test_frontdesk_command_lists_the_product_commands():
    result = subprocess.run(
        [sys.executable, "-m", "frontdesk", "help"], capture_output=True, text=True, check=True, timeout=60
    )
    for command in ("demo", "serve", "worker", "erlang", "migrate"):
        assert command in result.stdout


def test_create_api_token_prints_a_working_token(setup, clerk):
    from django.test import Client

    out = StringIO()
    call_command(
        "create_api_token", "clara", "--name", "CRM", "--scope", "queue:read", stdout=out, stderr=StringIO()
    )
    raw = out.getvalue().strip()
    assert raw.startswith("fd_")
    response = Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/queueing/branches")
    assert response.status_code == 200
    assert [branch["slug"] for branch in response.json()] == ["gran-via"]


def test_backtest_is_routed_to_the_science_tool():
    result = subprocess.run(
        [sys.executable, "-m", "frontdesk", "backtest", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "--format {anonymous-bank,csv,demo}" in result.stdout
    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "frontdesk",
            "backtest",
            "--format",
            "csv",
            "--fit",
            "/nonexistent.csv",
            "--test",
            "/nonexistent.csv",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "nonexistent" in refused.stderr
