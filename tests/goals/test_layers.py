"""goals sits on top of events and reads it only through its selectors; goals' own
modules import each other one way (issue 18: metrics, models and selectors were a circle)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

GOALS = Path(__file__).resolve().parents[2] / "goals"
MODULES = sorted(path for path in GOALS.rglob("*.py") if "migrations" not in path.parts)


def imported(path: Path) -> set[str]:
    """Every module `path` imports, dotted and absolute, with the names taken from it."""
    found: set[str] = set()
    package = "goals" if path.parent == GOALS else ".".join(path.relative_to(GOALS.parent).parent.parts)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(GOALS.parent)))
def test_goals_reads_events_only_through_its_selectors(path):
    from_events = {name for name in imported(path) if name.split(".")[0] == "events"}
    assert from_events <= {"events", "events.selectors"}


def test_the_metric_registry_does_not_import_the_goals_models_back():
    assert not {"goals.models", "goals.selectors", "goals.services"} & imported(GOALS / "metrics.py")


def test_the_metric_registry_imports_at_the_top_of_the_module():
    tree = ast.parse((GOALS / "metrics.py").read_text())
    top_level = {id(node) for node in tree.body}
    local = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top_level
    ]
    assert local == []
