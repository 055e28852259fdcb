"""The layering the folder tree shows (docs/architecture.md) holds in the imports.

models → services → chat / assistant → transports → composition (app, cli, supervisor, background);
infra under everything. An arrow may only point down: a service never imports a transport, the
chat path or the Rasa client (and so never raises the client's errors).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "backend" / "promptlink"
COMPOSITION = {
    "promptlink.app", "promptlink.cli", "promptlink.supervisor", "promptlink.background", "promptlink.__main__"
}

# layer -> the layers it must not import
FORBIDDEN = {
    "promptlink.infra": {"promptlink.models", "promptlink.services", "promptlink.chat", "promptlink.assistant",
                         "promptlink.transports", *COMPOSITION},
    "promptlink.models": {"promptlink.services", "promptlink.chat", "promptlink.assistant", "promptlink.transports",
                          *COMPOSITION},
    "promptlink.services": {"promptlink.chat", "promptlink.assistant", "promptlink.transports", *COMPOSITION},
    "promptlink.assistant": {"promptlink.chat", "promptlink.transports", *COMPOSITION},
    "promptlink.chat": {"promptlink.transports", *COMPOSITION},
    "promptlink.transports": COMPOSITION,
}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.startswith("promptlink")}


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_package_uses_absolute_imports_only() -> None:
    relative = [
        f"{p.relative_to(PACKAGE.parent)}:{node.lineno}"
        for p in MODULES
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level
    ]
    assert not relative


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_arrow_points_up(layer: str) -> None:
    wrong = []
    for path in MODULES:
        module = _module(path)
        if not _within(module, layer):
            continue
        for name in sorted(_imports(path)):
            if any(_within(name, banned) for banned in FORBIDDEN[layer]):
                wrong.append(f"{module} imports {name}")
    assert not wrong, "\n".join(wrong)
