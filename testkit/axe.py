"""Accessibility checks with axe-core (npm, from webchat/node_modules: nothing is fetched at run time).

axe's source is evaluated through the DevTools protocol, which the pages' Content Security Policy does
not apply to, so the page under test is exactly what a user gets.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE_JS = Path(__file__).resolve().parents[1] / "webchat" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("serious", "critical")


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make setup` (npm ci in webchat/)")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(
    page: Any, *, impacts: tuple[str, ...] = SERIOUS, context: str | None = None
) -> list[dict[str, Any]]:
    """The axe-core violations of `page` (WCAG 2.x A/AA and best practices) with one of `impacts`.

    Each item is {id, impact, help, nodes: [css selectors]} so an assertion message says what to fix.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source() + "\n;undefined")
    result = page.evaluate(
        """async (context) => {
            const r = await axe.run(context ? document.querySelector(context) : document,
                                    {resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.target.join(' '))}));
        }""",
        context,
    )
    return [v for v in result if v["impact"] in impacts]


def assert_no_serious_violations(page: Any, *, context: str | None = None) -> None:
    found = axe_violations(page, context=context)
    assert found == [], "axe-core: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes'][:3]}" for v in found
    )
