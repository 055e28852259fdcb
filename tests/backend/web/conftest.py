"""Defaults for the console's browser tests: a backend of the module's own and desktop pages (1366×800, CSP).

A module that needs something else (another height, a shared stack) defines its own `backend` or `pages`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.browser import page_factory
from testkit.processes import Running, start_lone_backend


@pytest.fixture(scope="module")
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """Its own backend per module: queues, waits and limits no other module moves."""
    name = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    running = start_lone_backend(Path(tmp_path_factory.mktemp(name)))
    yield running
    running.stop()


@pytest.fixture
def pages(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A factory of fresh desktop pages under the production CSP; a JS error or a dialog fails the test."""
    with page_factory(browser, height=800, csp=True) as open_page:
        yield open_page
