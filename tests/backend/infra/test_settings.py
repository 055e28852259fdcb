from __future__ import annotations

import pytest
from promptlink.infra.settings import DEMO_SECRETS, Settings, SettingsError

STRONG = {f"PROMPTLINK_{name.upper()}": f"a-long-random-{name}-0123456789" for name in DEMO_SECRETS}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("PROMPTLINK_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir("/")  # no stray .env


def test_demo_mode_fills_demo_secrets() -> None:
    settings = Settings(demo=True)
    assert settings.secret("widget_secret") == "demo-widget-secret"
    assert settings.host == "127.0.0.1"


def test_outside_demo_a_missing_secret_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in STRONG.items():
        if key != "PROMPTLINK_WIDGET_SECRET":
            monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match="PROMPTLINK_WIDGET_SECRET is not set"):
        Settings()


def test_outside_demo_the_demo_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in STRONG.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("PROMPTLINK_WIDGET_SECRET", "demo-widget-secret")
    with pytest.raises(SettingsError, match="PROMPTLINK_WIDGET_SECRET is a demo or too short"):
        Settings()


def test_outside_demo_strong_secrets_are_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in STRONG.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.secret("widget_secret") == STRONG["PROMPTLINK_WIDGET_SECRET"]
    assert settings.database_url.startswith("sqlite+aiosqlite:///")


def test_database_url_follows_var_dir(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("PROMPTLINK_VAR_DIR", str(tmp_path))
    assert Settings(demo=True).database_url == f"sqlite+aiosqlite:///{tmp_path / 'promptlink.db'}"


@pytest.mark.parametrize("demo", [False, True])
def test_any_two_identical_secrets_stop_the_start(monkeypatch: pytest.MonkeyPatch, demo: bool) -> None:
    names = list(DEMO_SECRETS)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            for key, value in STRONG.items():
                monkeypatch.setenv(key, value)
            monkeypatch.setenv(f"PROMPTLINK_{second.upper()}", STRONG[f"PROMPTLINK_{first.upper()}"])
            with pytest.raises(SettingsError, match=f"PROMPTLINK_{first.upper()} and PROMPTLINK_{second.upper()}"):
                Settings(demo=demo)


def test_login_limits_are_settings_and_are_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(demo=True)
    assert (settings.login_rate_per_ip, settings.login_rate_per_account) == ("5/5 minutes", "10/15 minutes")
    monkeypatch.setenv("PROMPTLINK_LOGIN_RATE_PER_IP", "five a minute")
    with pytest.raises(SettingsError, match="PROMPTLINK_LOGIN_RATE_PER_IP"):
        Settings(demo=True)


def test_the_gil_switch_interval_is_half_a_millisecond_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings(demo=True).gil_switch_ms == 0.5
    monkeypatch.setenv("PROMPTLINK_GIL_SWITCH_MS", "5")  # Python's own default
    assert Settings(demo=True).gil_switch_ms == 5
    for bad in ("0", "-1", "1000"):
        monkeypatch.setenv("PROMPTLINK_GIL_SWITCH_MS", bad)
        with pytest.raises(ValueError):
            Settings(demo=True)
