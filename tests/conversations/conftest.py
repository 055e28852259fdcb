"""The conversation test set's own stack (backend, two Rasa servers, action server) and its summary line."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from testkit.processes import Running, stack_timeout, start_stack
from tests.conversations.simulator import REPORT_PATH, Result, Runner, summary_line, write_report

RESULTS = pytest.StashKey[list[Result]]()


@pytest.fixture(scope="module")
def conversation_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running | None]:
    """The three real processes on free ports with a database of their own (not the session's `stack`).

    PROMPTLINK_CONVERSATIONS_BASE_URL plays the set against a system already running there instead;
    PROMPTLINK_CONVERSATIONS_MODEL starts Rasa with that model file instead of the current data's.
    """
    if os.environ.get("PROMPTLINK_CONVERSATIONS_BASE_URL"):
        yield None
        return
    running = start_stack(
        tmp_path_factory.mktemp("conversations"),
        timeout=stack_timeout(),
        model=os.environ.get("PROMPTLINK_CONVERSATIONS_MODEL"),
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def conversation_runner(conversation_stack: Running | None) -> Runner:
    if conversation_stack is None:
        return Runner(os.environ["PROMPTLINK_CONVERSATIONS_BASE_URL"])
    return Runner(conversation_stack.base_url)


@pytest.fixture
def conversation_results(request: pytest.FixtureRequest) -> list[Result]:
    """Every played conversation's result, for the summary line and the JSON report."""
    stash = request.config.stash
    if RESULTS not in stash:
        stash[RESULTS] = []
    return stash[RESULTS]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(RESULTS, None)
    if not results:
        return
    terminalreporter.section("conversation test set")
    for result in results:
        if not result.ok:
            terminalreporter.write_line(f"FAIL {result.one_line()}")
    terminalreporter.write_line(summary_line(results))
    write_report(results, REPORT_PATH)
    terminalreporter.write_line(f"report: {REPORT_PATH}")
