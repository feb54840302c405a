"""Version tokens of what the polled screens show, kept in the shared cache.

Every open screen asks every 5 s whether it changed. To answer `304 Not
Modified` without touching the database, each screen names the *keys* of
what it shows — "the jobs of person 12", "job 345", "the unassigned pool of
branch 2", "the viewer" — and its ETag is a hash of those keys' current
tokens. A write bumps exactly the keys of what it changed (so one status
change re-renders the screens that show that job, not every screen of the
branch); a missing token (evicted, Redis restarted) is simply created anew,
which costs one re-render and can never serve stale content.

Who bumps: the service that makes the write, inside its transaction — never
a model's save(), which would make a script, a migration or a test fixture
re-render every screen and hide which write a screen depends on. The keys of
the core rows live here (the core imports no app): `branch:<id>` for the
customers and vehicles of a branch (`customer_changed`, `vehicle_changed`),
`people` for staff names and roles (`people_changed`). The job keys live with
the job screens (repairs.selectors, repairs.services.screens_changed).

Tokens live in the default cache: Redis in production, shared by every web
process. Without REDIS_URL the cache is per process, which is right for the
single-process `make run` and wrong for several gunicorn workers (the README
says so).

The viewer's own part of every ETag — role, branch, scope, language — is
cached too (`viewer:<id>`), written on the first full render after any change
to the user row and forgotten whenever that row changes. What changes often
for one person is a key of its own: `read:<id>` (they read a thread: their
unread badges) and `notified:<id>` (their bell), so reading a thread does not
re-render their job pages or their threads.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

TOKEN_SECONDS = 7 * 24 * 3600
VIEWER_SECONDS = 24 * 3600
PREFIX = "ver:"


def bump(*keys: str) -> None:
    """Mark `keys` changed now and again when the surrounding transaction commits.

    The bump after commit is the one that matters for readers in other
    processes: a poll between the change and its commit may render the old
    data under the old token, and the second bump makes the next poll render
    again. The immediate bump serves readers in the same transaction (tests).
    """
    keys = tuple(dict.fromkeys(key for key in keys if key))
    if not keys:
        return
    _set_new_tokens(keys)
    transaction.on_commit(lambda: _set_new_tokens(keys))


def _set_new_tokens(keys: Iterable[str]) -> None:
    cache.set_many({PREFIX + key: secrets.token_hex(6) for key in keys}, TOKEN_SECONDS)


def tokens(keys: Iterable[str]) -> list[str]:
    """The current token of each key (one cache round trip), creating missing ones."""
    keys = list(keys)
    if not keys:
        return []
    found = cache.get_many([PREFIX + key for key in keys])
    missing = {PREFIX + key: secrets.token_hex(6) for key in keys if PREFIX + key not in found}
    if missing:
        cache.set_many(missing, TOKEN_SECONDS)
        found |= missing
    return [found[PREFIX + key] for key in keys]


# --- the viewer -----------------------------------------------------------------


def viewer_of(user: Any) -> dict[str, Any]:
    """What about the signed-in user changes what their screens show."""
    return {
        "id": user.pk,
        "role": user.role,
        "branch": user.branch_id,
        "all": user.sees_all_branches,
        "active": user.is_active,
        "language": user.language,
        "auth": user.get_session_auth_hash(),
    }


def remember_viewer(user: Any) -> dict[str, Any]:
    """The viewer of a full render, cached for the query-free 304s.

    Written once per user object while it stays the same (a page's screen
    and its bell both ask); should the row change meanwhile, forget_viewers
    drops the cached copy and the next render writes it again.
    """
    viewer = viewer_of(user)
    if getattr(user, "_remembered_viewer", None) != viewer:
        cache.set(f"viewer:{user.pk}", viewer, VIEWER_SECONDS)
        user._remembered_viewer = viewer
    return viewer


def cached_viewer(request: Any) -> dict[str, Any] | None:
    """The signed-in viewer from the session and the cache alone (no database), or None.

    None when there is no session, the viewer is not cached, or the session
    belongs to an older password (the session hash no longer matches).
    """
    session = getattr(request, "session", None)
    user_id = session.get(SESSION_KEY) if session is not None else None
    if not user_id:
        return None
    viewer = cache.get(f"viewer:{user_id}")
    if not viewer or not viewer["active"] or str(viewer["id"]) != str(user_id):
        return None
    if session.get(HASH_SESSION_KEY) != viewer["auth"]:
        return None
    return viewer


def forget_viewers(user_ids: Iterable[int]) -> None:
    """Call whenever a user row changes (role, branch, scope, language, password)."""
    keys = [f"viewer:{pk}" for pk in user_ids]
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


# --- ETags ------------------------------------------------------------------------


def screen_hash(viewer: dict[str, Any], key_tokens: list[str], parts: Iterable[str], deadline: int) -> str:
    viewer_part = "|".join(f"{name}={viewer[name]}" for name in sorted(viewer) if name != "auth")
    raw = "|".join([viewer_part, *key_tokens, *parts, str(deadline)])
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def make_etag(viewer: dict[str, Any], keys: Iterable[str], parts: Iterable[str], deadline: int = 0) -> str:
    """`"<hash>.<deadline>"`: the deadline is when a time-dependent flag on the
    screen (overdue) next changes; 0 when nothing on it depends on the clock."""
    return f'"{screen_hash(viewer, tokens(keys), parts, deadline)}.{deadline}"'


def sent_etags(request: Any) -> list[str]:
    """The ETags the client says it holds (`If-None-Match`), without quotes or `W/`.

    The one parser of the header: the middleware's fast path and the views
    both read it here.
    """
    sent = request.headers.get("If-None-Match", "")
    return [tag.strip().removeprefix("W/").strip('"') for tag in sent.split(",") if tag.strip()]


def still_current(request: Any, viewer: dict[str, Any], keys: list[str], parts: list[str]) -> str | None:
    """The client's ETag when it still names what the screen would show now, else None."""
    sent = sent_etags(request)
    if not sent:
        return None
    now = timezone.now().timestamp()
    key_tokens = tokens(keys)
    for tag in sent:
        digest, _, deadline = tag.partition(".")
        if not deadline.isdigit():
            continue
        if int(deadline) and now >= int(deadline):
            continue  # a shown job crossed its promised time: render again
        if digest == screen_hash(viewer, key_tokens, parts, int(deadline)):
            return f'"{tag}"'
    return None


# --- the core rows: customers, vehicles, branches, people --------------------------
#
# The job screens show the customer's name and contact, the vehicle and the
# people on the job. The screens name these keys (repairs.selectors); the
# writes below bump them, each only when a field the screens show changed.

PEOPLE = "people"

# What the polled screens show of a customer and of a vehicle (the lists, the
# board, the queue, the job page, the approvals, the customer's status page).
CUSTOMER_SHOWN = frozenset({"name", "name_kana", "phone", "email", "language", "branch"})
VEHICLE_SHOWN = frozenset({"make", "model", "year", "plate_number", "mileage", "customer"})
# What they show of a person: names on cards, rows, timelines and threads,
# the role beside a message; a branch move takes them off the old branch's jobs.
PEOPLE_SHOWN = frozenset({"display_name", "role", "branch"})


def branch_keys_of(viewer: dict[str, Any]) -> list[str]:
    """The branch-wide key a viewer's screens show: their branch, or every branch."""
    return ["branch:all"] if viewer["all"] else [f"branch:{viewer['branch']}"]


def branch_changed(*branch_ids: int | None) -> None:
    """A customer, a vehicle or the branch itself changed: every screen of those branches."""
    bump(*(f"branch:{pk}" for pk in branch_ids if pk), "branch:all")


def customer_changed(customer: Any, fields: Iterable[str], *, previous_branch_id: int | None = None) -> None:
    """Call after saving `fields` of a customer (the admin, the customer's pages)."""
    if CUSTOMER_SHOWN.intersection(fields):
        branch_changed(customer.branch_id, previous_branch_id)


def vehicle_changed(vehicle: Any, fields: Iterable[str], *, previous_branch_id: int | None = None) -> None:
    """Call after saving `fields` of a vehicle; its jobs show it on the customer's branch."""
    if VEHICLE_SHOWN.intersection(fields):
        branch_changed(vehicle.customer.branch_id, previous_branch_id)


def people_changed(fields: Iterable[str]) -> None:
    """Call after saving `fields` of a staff member (the Team page, the admin).

    One key for all staff: a name shows on any branch's screens the person
    ever acted on (a group manager's message, a moved technician's timeline),
    and names change a few times a year.
    """
    if PEOPLE_SHOWN.intersection(fields):
        bump(PEOPLE)
