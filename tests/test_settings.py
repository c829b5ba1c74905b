"""Settings as an operator meets them: a value that does not fit stops the process with the
variable's name and what it accepts; a `.env` file is honoured, the environment wins over it."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.config import Settings, SettingsError
from tests.support.database import ROOT


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.startswith("CHARGECARS_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    ("variable", "value", "told"),
    [
        ("CHARGECARS_MAX_PAGE_SIZE", "lots", "valid integer"),
        ("CHARGECARS_INTROSPECTION", "maybe", "on/off, true/false"),
        ("CHARGECARS_SMTP_SECURITY", "ssl", "'none', 'starttls' or 'tls'"),
        ("CHARGECARS_LOG_LEVEL", "loud", "'critical', 'error', 'warning', 'info' or 'debug'"),
        ("CHARGECARS_WEBHOOK_RETRY_DELAYS", "60,soon", "valid number"),
        ("CHARGECARS_NOTIFICATION_RETRY_DELAYS", "60,-5", "positive numbers"),
        ("CHARGECARS_SLA_MONITOR_CRON", "hourly", "cron expression"),
        ("CHARGECARS_PORT", "70000", "less than or equal to 65535"),
        ("CHARGECARS_WORKERS", "0", "greater than or equal to 1"),
        ("CHARGECARS_CORS_ORIGINS", "https://portal.example.nl,portal.example.nl", "is not an origin"),
    ],
)
def test_a_value_that_does_not_fit_is_named_with_what_it_accepts(clean_env, monkeypatch, variable, value, told):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as refused:
        Settings.from_env()
    assert f"{variable}=" in str(refused.value) and told in str(refused.value)


def test_flags_and_lists_read_as_written(clean_env, monkeypatch) -> None:
    monkeypatch.setenv("CHARGECARS_INTROSPECTION", "off")
    monkeypatch.setenv("CHARGECARS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("CHARGECARS_WEBHOOK_RETRY_DELAYS", "1, 2.5,3")
    monkeypatch.setenv("CHARGECARS_DB_NAME", "other")
    monkeypatch.setenv("CHARGECARS_CORS_ORIGINS", "https://a.example, http://localhost:5173/")
    monkeypatch.setenv("DATABASE_URL", "")
    settings = Settings.from_env()
    assert settings.introspection is False and settings.log_level == "warning"
    assert settings.webhook_retry_delays == (1, 2.5, 3) and settings.database_name == "other"
    assert settings.database_url is None and settings.data_dir == clean_env / ".pgdata"
    assert settings.cors_origins == ("https://a.example", "http://localhost:5173")


def test_a_dotenv_file_is_honoured_and_the_environment_wins(clean_env, monkeypatch) -> None:
    (clean_env / ".env").write_text(
        "CHARGECARS_MAX_PAGE_SIZE=40\nCHARGECARS_PORT=8100\nDATABASE_URL=postgresql://h/db\n"
    )
    monkeypatch.setenv("CHARGECARS_PORT", "8200")
    settings = Settings.from_env()
    assert (settings.max_page_size, settings.port, settings.database_url) == (40, 8200, "postgresql://h/db")


def test_the_command_refuses_to_start_with_one_line_per_bad_variable(clean_env) -> None:
    env = {**os.environ, "CHARGECARS_MAX_PAGE_SIZE": "lots", "CHARGECARS_INTROSPECTION": "maybe"}
    ran = subprocess.run(
        [sys.executable, "-m", "app.cli", "serve"], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 1
    assert "Traceback" not in ran.stderr
    assert ran.stderr.splitlines() == [
        "chargecars: invalid settings:",
        "  CHARGECARS_MAX_PAGE_SIZE='lots': Input should be a valid integer, unable to parse string as an integer",
        "  CHARGECARS_INTROSPECTION='maybe': Input should be a valid boolean, unable to interpret input"
        " (on/off, true/false, yes/no or 1/0)",
    ]


def test_every_command_has_a_description(capsys) -> None:
    from app import cli

    with pytest.raises(SystemExit):
        cli.main(["serve", "--help"])
    shown = capsys.readouterr().out
    assert "--host HOST" in shown and "--port PORT" in shown and "--workers WORKERS" in shown
    assert "Serve the API" in shown
    commands = ("run", "serve", "worker", "migrate", "seed-demo", "mailbox", "wiring", "export-schema", "create-token")
    for command in commands:
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        description = capsys.readouterr().out.split("\n\n")[1]
        assert len(description) > 20 and description.endswith("."), f"{command} has no description"
