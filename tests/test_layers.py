"""Imports flow one way (DESIGN.md, "Layout"):

    dealership core ← accounts ← customers ← repairs ← feedback ← events ← goals

A module may import its own app and the apps below it, never one above: the
core knows no app, repairs knows nothing of feedback, events or goals, and
nobody imports goals. Every `import` counts — at the top of a module, inside
a function, under TYPE_CHECKING, in a migration. Only the wiring may import
every app: settings, the URL configuration, the home page and the
navigation (they gather each app's panels and menus), and the seed_demo
command (it seeds each app in dependency order). tests/ and scripts/ are not
apps. An app folder that does not exist yet has nothing to check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("dealership", "accounts", "customers", "repairs", "feedback", "events", "goals")
RANK = {app: rank for rank, app in enumerate(LAYERS)}
WIRING = {
    "dealership/settings.py",
    "dealership/urls.py",
    "dealership/views.py",
    "dealership/context_processors.py",
    "dealership/management/commands/seed_demo.py",
}


def imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    # The package a relative import starts from: a/b/c.py and a/b/__init__.py are both in a.b.
    package = list(path.relative_to(root).parts[:-1])
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return sorted(found)


def violations(app: str, root: Path = ROOT) -> list[str]:
    refused = []
    for path in sorted((root / app).rglob("*.py")):
        relative = path.relative_to(root).as_posix()
        if relative in WIRING:
            continue
        for line, module in imported_modules(path, root):
            other = module.split(".")[0]
            if other in RANK and RANK[other] > RANK[app]:
                refused.append(f"{relative}:{line} imports {module} ({other} is above {app})")
    return refused


@pytest.mark.parametrize("app", LAYERS)
def test_no_module_imports_an_app_above_its_own(app):
    if not (ROOT / app).is_dir():
        return  # not created yet: nothing to check
    assert violations(app) == []


def test_every_app_of_the_project_has_its_layer():
    """A new app is placed in LAYERS (and DESIGN.md) before it can import anything."""
    apps = {path.parent.name for path in ROOT.glob("*/apps.py")}
    assert apps <= set(LAYERS), f"add {sorted(apps - set(LAYERS))} to LAYERS and to DESIGN.md's Layout"


def test_the_check_sees_function_local_relative_and_type_checking_imports(tmp_path):
    """The rule holds for every form of import, not only those at the top of a module."""
    app = tmp_path / "customers"
    (app / "sub").mkdir(parents=True)
    (app / "sub" / "__init__.py").write_text("")
    (app / "sub" / "deep.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from goals.models import Goal\n"
        "def hidden():\n"
        "    import repairs.services\n"
        "from ...feedback import models\n"
        "from .. import permissions\n"
        "from dealership import dates\n"
    )
    assert violations("customers", tmp_path) == [
        "customers/sub/deep.py:3 imports goals.models (goals is above customers)",
        "customers/sub/deep.py:5 imports repairs.services (repairs is above customers)",
        "customers/sub/deep.py:6 imports feedback (feedback is above customers)",
    ]
