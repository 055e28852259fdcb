"""Fixtures the security tests share: each module runs its own backend with a stand-in Rasa of its own."""

from __future__ import annotations

import pytest

from testkit.processes import free_port


@pytest.fixture(scope="module")
def rasa_port() -> int:
    """Where the module's stand-in Rasa listens (its backend's PROMPTLINK_RASA_URLS points there)."""
    return free_port()
