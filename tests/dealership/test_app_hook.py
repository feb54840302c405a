"""app_hook: an app without the module offers no hook; a module that fails to import fails loudly."""

from __future__ import annotations

import sys

import pytest

from dealership.context_processors import app_hook


@pytest.fixture
def portal_app(tmp_path, monkeypatch):
    """A throwaway app package `hookapp` with a working, a broken and no `permissions` module."""
    package = tmp_path / "hookapp"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "panels.py").write_text("def home_panels(user):\n    return ['panel']\n")
    (package / "broken.py").write_text("from hookapp.moved_away import home_panels  # noqa\n")
    (package / "typo.py").write_text("import a_module_nobody_installed  # noqa\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "hookapp"
    for name in [name for name in sys.modules if name == "hookapp" or name.startswith("hookapp.")]:
        del sys.modules[name]


def test_a_module_the_app_offers_gives_its_hook(portal_app):
    assert app_hook(portal_app, "panels", "home_panels")(None) == ["panel"]


def test_a_hook_the_module_does_not_define_is_none(portal_app):
    assert app_hook(portal_app, "panels", "customer_panels") is None


def test_an_app_without_the_module_offers_no_hook(portal_app):
    assert app_hook(portal_app, "permissions", "navigation_items") is None


def test_a_module_importing_something_that_moved_fails_loudly(portal_app):
    with pytest.raises(ModuleNotFoundError, match=r"hookapp\.moved_away"):
        app_hook(portal_app, "broken", "home_panels")


def test_a_module_importing_a_missing_package_fails_loudly(portal_app):
    with pytest.raises(ModuleNotFoundError, match="a_module_nobody_installed"):
        app_hook(portal_app, "typo", "home_panels")


def test_an_app_that_is_not_there_fails_loudly():
    with pytest.raises(ModuleNotFoundError):
        app_hook("no_such_portal_app", "panels", "home_panels")
