"""Save only what changed: the services' "diff the fields, then
save(update_fields=…)" written once.

Saving only the changed columns keeps a concurrent write to another column
of the same row (a claim, a status move) intact, and an edit that changes
nothing writes nothing — no history row, no notification, no bumped screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import Model


def save_changed(instance: Model, fields: Mapping[str, Any], *, also: Mapping[str, Any] | None = None) -> list[str]:
    """Set the `fields` whose value differs on `instance` and save those columns alone.

    `also` (a new `updated_at`, the next sequence number) is set and saved
    with them, but only when something changed. Returns the names of the
    changed `fields` (not `also`), [] when nothing was saved.
    """
    changed = [name for name, value in fields.items() if getattr(instance, name) != value]
    if not changed:
        return []
    extra = dict(also or {})
    for name, value in [*((name, fields[name]) for name in changed), *extra.items()]:
        setattr(instance, name, value)
    instance.save(update_fields=[*changed, *extra])
    return changed
