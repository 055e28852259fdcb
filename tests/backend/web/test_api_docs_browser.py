"""The API reference at /docs in Chromium: the OpenAPI document rendered offline under the page's CSP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from testkit.axe import assert_no_serious_violations
from testkit.browser import page_factory
from testkit.processes import Running

pytestmark = [pytest.mark.browser]


@pytest.fixture
def docs_page(browser) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    with page_factory(browser, height=900, csp=True) as open_page:
        yield open_page


def test_docs_render_tags_schemas_and_status_codes(lone_backend: Running, docs_page) -> None:
    spec = httpx.get(lone_backend.base_url + "/docs/openapi.json").json()
    tags = {op["tags"][0] for ops in spec["paths"].values() for op in ops.values() if op.get("tags")}
    operations = sum(len(ops) for ops in spec["paths"].values())
    page = docs_page()
    page.goto(lone_backend.base_url + "/docs")
    expect(page.locator(".op")).to_have_count(operations)
    # Grouped by tag, with a table of contents pointing at every operation.
    expect(page.locator("section.tag")).to_have_count(len(tags))
    expect(page.locator(".toc a.toc-op")).to_have_count(operations)
    first = page.locator(".toc a.toc-op").first.get_attribute("href")
    assert first and page.locator(first).count() == 1
    # Markdown code spans are code, never literal backticks.
    assert "`" not in page.locator("#api-paths").inner_text()
    health = page.locator("#op-get-health-health")  # operationId get~health.health
    expect(health.locator(".description code", has_text="failing")).to_have_count(1)

    # Parameters with their limits; the request body's schema; responses with codes and schemas.
    stats = page.locator(".op", has=page.locator("h3 code", has_text="/api/v1/admin/stats")).filter(
        has=page.locator(".method.get")
    )
    expect(stats.first.locator("table.params")).to_contain_text("days")
    expect(stats.first.locator("table.params")).to_contain_text("≤ 366")
    train = page.locator(".op", has=page.locator(".method.post")).filter(
        has=page.locator("h3 code", has_text="/api/v1/admin/models")
    )
    train = train.filter(has_not=page.locator("h3 code", has_text="/activate"))
    expect(train).to_have_count(1)
    expect(train.locator(".schema-block").first).to_contain_text("TrainIn")
    expect(train.locator(".schema-block").first.locator("td code", has_text="recipe")).to_have_count(1)
    for status in ("202", "401", "403", "409", "422", "502"):
        expect(train.locator(f'.response[data-status="{status}"]')).to_have_count(1)
    expect(train.locator('.response[data-status="409"] summary')).to_have_text("Schema: ErrorOut")
    models = page.locator(".op", has=page.locator(".method.get")).filter(
        has=page.locator("h3 code", has_text="/api/v1/admin/models")
    )
    listing = models.filter(has_not=page.locator("h3 code", has_text="{"))
    ok = listing.locator('.response[data-status="200"]')
    expect(ok.locator("summary").first).to_have_text("Schema: ModelList")
    expect(ok.locator("td code", has_text="running")).to_have_count(1)  # the $ref resolved
    assert_no_serious_violations(page)

    # Keyboard: a link of the contents moves to its operation.
    link = page.locator(".toc a.toc-op").nth(3)
    link.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("window.location.hash") == link.get_attribute("href")
