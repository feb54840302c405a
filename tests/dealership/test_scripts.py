"""Every developer command the README names can run on a fresh machine.

`make bench` crashed as shipped because `scripts/bench.py` imported psutil
inside a function and no requirements file listed it. These tests read every
import of every script, function-local ones included, and check that the
virtual environment `make` builds (requirements-dev.txt) can import it.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
# Modules of the project itself, and the scripts that import each other.
LOCAL = {path.stem for path in SCRIPTS} | {"dealership", "accounts", "repairs", "feedback", "goals", "tests"}


def imported_modules(path: Path) -> set[str]:
    """The top-level names of everything `path` imports, wherever the import stands."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_scripts_folder_is_read():
    assert {"bench", "capacity"} <= {path.stem for path in SCRIPTS}
    assert "psutil" in imported_modules(ROOT / "scripts" / "bench.py")


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: path.name)
def test_every_module_a_script_imports_is_installed(path):
    missing = sorted(
        name
        for name in imported_modules(path) - LOCAL - set(sys.stdlib_module_names)
        if importlib.util.find_spec(name) is None
    )
    assert not missing, f"{path.name} imports {missing}: add them to requirements-dev.txt"
