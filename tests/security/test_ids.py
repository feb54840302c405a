"""Ids in URLs: a number the database cannot hold matches no page (404), never a 500.

`/team/calendar/100000000000000000000/x.ics` reached SQLite with a number
over 64 bits and answered 500 (OverflowError). Every id in a path now goes
through one converter, `<id:…>`, that refuses it before any query.
"""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.converters import IntConverter
from django.urls.resolvers import RoutePattern

from dealership.ids import MAX_ID, IdConverter, parse_id


def id_routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    """Every route of the portal, with its converters, as `prefix/route` strings."""
    routes: list[str] = []
    for entry in (resolver or get_resolver()).url_patterns:
        if not isinstance(entry.pattern, RoutePattern):
            continue
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            routes += id_routes(entry, route)
        elif isinstance(entry, URLPattern):
            routes.append(route)
    return routes


def converters(resolver: URLResolver | None = None) -> list:
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        found += list(getattr(entry.pattern, "converters", {}).values())
        if isinstance(entry, URLResolver):
            found += converters(entry)
    return found


def test_no_route_takes_an_unbounded_int():
    used = converters()
    assert any(isinstance(converter, IdConverter) for converter in used)
    assert not [converter for converter in used if isinstance(converter, IntConverter)]


@pytest.mark.parametrize("number", [0, MAX_ID + 1, 10**20, 2**64])
def test_an_id_the_database_cannot_hold_matches_no_page(client, number):
    routes = [route for route in id_routes() if "<id:" in route and not route.startswith("admin/")]
    assert len(routes) > 20
    for route in routes:
        path = "/" + route
        while "<id:" in path:
            start = path.index("<id:")
            path = path[:start] + str(number) + path[path.index(">", start) + 1 :]
        path = path.replace("<str:token>", "x").replace("<str:variant>", "thumb").replace("<slug:key>", "x")
        assert client.get(path).status_code == 404, path


def test_the_largest_id_is_still_an_id():
    assert parse_id(str(MAX_ID)) == MAX_ID
    assert IdConverter().to_python(str(MAX_ID)) == MAX_ID
    with pytest.raises(ValueError):
        IdConverter().to_python(str(MAX_ID + 1))
    assert parse_id("１２") is None  # full-width digits
