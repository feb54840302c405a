"""The workshop board, rendered once per change and shared by everyone watching it.

Advisors and managers keep the board open all day, and with the workshop
working some job of the branch changes every few seconds, so no board poll
can be a `304`: each one re-renders up to 96 cards. The cards are the same
for every viewer of the branch in the same language; only the unread badges
differ. So the first poll after a change renders the cards and puts them in
the shared cache, keyed by exactly what they show — the branch (or all
branches), the language and the version tokens of the branch's jobs, its
customers and vehicles, and the staff's names (selectors.board_card_keys) —
and every other viewer reads them back and adds their own unread counts from
one query. A write bumps those tokens, so a stale copy is never read again
(a renamed technician is on the very next render, not after LAYOUT_SECONDS);
a copy also lapses when a shown job crosses its promised time (its overdue
flag), as the screen's ETag does. LAYOUT_SECONDS only frees the memory of
copies nobody asks for any more.

`SHARED_BOARD=0` renders every board from the database, as `make bench`
does to measure the render itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import User
from dealership import versions

from . import selectors
from .rows import card, card_parts

LAYOUT_SECONDS = 600


@dataclass(frozen=True)
class Column:
    status: str
    label: str
    count: int
    cards: tuple[tuple[int, str, str], ...]  # (job id, markup before the unread badge, after it)


@dataclass(frozen=True)
class Layout:
    columns: tuple[Column, ...]
    deadline: int  # when the first shown job crosses its promised time, 0 if never

    @property
    def job_ids(self) -> list[int]:
        return [pk for column in self.columns for pk, _, _ in column.cards]


def board_for(user: User) -> tuple[list[dict], int]:
    """The board's columns as `user` sees it (cards with their own unread badges), and its deadline."""
    layout = shared_layout(user) if settings.SHARED_BOARD else build_layout(user)
    unread = selectors.unread_counts(user, layout.job_ids)
    columns = [
        {
            "status": column.status,
            "label": column.label,
            "count": column.count,
            "shown": len(column.cards),
            "cards": [card(head, unread.get(pk, 0), tail) for pk, head, tail in column.cards],
        }
        for column in layout.columns
    ]
    return columns, layout.deadline


def build_layout(user: User) -> Layout:
    columns = selectors.board_columns(user)
    return Layout(
        columns=tuple(
            Column(
                status=column["status"],
                label=str(column["label"]),
                count=column["count"],
                cards=tuple((job.pk, *card_parts(job)) for job in column["jobs"]),
            )
            for column in columns
        ),
        deadline=selectors.deadline_of(job for column in columns for job in column["jobs"]),
    )


def shared_layout(user: User) -> Layout:
    scope = {"all": user.sees_all_branches, "branch": user.branch_id}
    keys = selectors.board_card_keys(scope)
    digest = hashlib.sha256("|".join([*keys, *versions.tokens(keys)]).encode()).hexdigest()[:24]
    key = f"board:{'all' if scope['all'] else scope['branch']}:{get_language()}:{digest}"
    layout = cache.get(key)
    if layout is None or (layout.deadline and timezone.now().timestamp() >= layout.deadline):
        layout = build_layout(user)
        cache.set(key, layout, LAYOUT_SECONDS)
    return layout
