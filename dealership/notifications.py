"""notify(): the one way to tell someone something.

Callers run it inside the transaction of the change that caused it, so the
notification rows commit or roll back together with that change (a
transactional outbox). E-mail delivery is enqueued only after commit; if the
broker is down at that moment the row simply stays `pending` and the sweeper
(`dealership.outbox.sweep`) enqueues it later.

Who hears what: nobody who cannot see the target (each app registers the
same permission function that guards the target's page, see
`register_visibility`), nobody twice for one call, never the actor.

A notification stores its text as a translatable template and its
arguments, not as rendered text: it is rendered in the reader's language
when shown, and an e-mail in the recipient's language when sent.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction
from django.utils import timezone
from django.utils.functional import Promise

from . import outbox
from .i18n import message_of
from .models import Notification
from .versions import bump

# model class → check(user, obj) -> bool, registered by each app in ready().
_VISIBILITY: dict[type[models.Model], Callable[[Any, Any], bool]] = {}
# model class → the relations its check reads (a message's job), loaded with the targets.
_RELATED: dict[type[models.Model], tuple[str, ...]] = {}


def register_visibility(
    model: type[models.Model], check: Callable[[Any, Any], bool], *, related: tuple[str, ...] = ()
) -> None:
    """Declare who may hear about objects of `model`: the check of the object's own view.

    `related` names the foreign keys the check follows, so the notification
    centre loads a page's targets and what they check in one query per kind.
    """
    _VISIBILITY[model] = check
    _RELATED[model] = related


def may_hear_about(user: Any, target: models.Model | None) -> bool:
    """True when `user` may be told about `target` (the same rule as its page)."""
    if target is None:
        return True
    check = _VISIBILITY.get(type(target))
    if check is None:
        raise ImproperlyConfigured(
            f"No visibility rule for {type(target).__name__}: call register_visibility() in its app's ready()."
        )
    return check(user, target)


def still_visible(user: Any, rows: Iterable[Notification]) -> set[int]:
    """The ids of `rows` whose target `user` may still see, by the rule that let them hear of it.

    Someone who moved branch keeps their notifications, but the ones about the
    old branch's jobs and events must stop telling their titles and places
    (nobody is told about what they cannot see); a deleted target is not
    visible either. One query per kind of target on the page.
    """
    rows = list(rows)
    wanted: dict[int, set[int]] = defaultdict(set)
    for row in rows:
        if row.target_type_id is not None:
            wanted[row.target_type_id].add(row.target_id)
    targets: dict[tuple[int, int], models.Model] = {}
    for type_id, ids in wanted.items():
        model = ContentType.objects.get_for_id(type_id).model_class()
        if model is None:
            continue
        for target in model._default_manager.select_related(*_RELATED.get(model, ())).filter(pk__in=ids):
            targets[type_id, target.pk] = target
    visible = set()
    for row in rows:
        target = targets.get((row.target_type_id, row.target_id))
        if row.target_type_id is None or (target is not None and may_hear_about(user, target)):
            visible.add(row.pk)
    return visible


def portable(value: Any) -> Any:
    """A JSON-safe form of a template or argument that stays translatable.

    A text made by `dealership.i18n.gettext_lazy` / `pgettext_lazy` is stored
    as its message id (and context), `{"t": [msgid]}` or `{"t": [context,
    msgid]}`, so the reader's language is chosen when it is shown
    (`dealership.models.render_portable`); anything else is stored as its
    text. A lazy text made any other way cannot say what it translates, and
    is refused rather than stored in the writer's language.
    """
    if isinstance(value, Promise):
        message = message_of(value)
        if message is None:
            raise TypeError(
                f"Cannot store {value!r} translatable: make the texts of notifications and timeline rows "
                "with dealership.i18n.gettext_lazy / pgettext_lazy."
            )
        return {"t": list(message)}
    if isinstance(value, int | float | str) or value is None:
        return value
    if isinstance(value, dict):
        return {str(key): portable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [portable(item) for item in value]
    return str(value)


def notify(
    recipients: Iterable[Any],
    kind: str,
    *,
    actor: Any | None,
    target: models.Model | None,
    text: Any,
    args: dict[str, Any] | None = None,
) -> list[Notification]:
    """Write one notification per recipient who may see `target` and enqueue e-mails.

    `text` is a lazy translatable template with `{placeholders}` filled from
    `args`; lazy arguments (choice labels) are translated when shown too.
    `target` must have `get_absolute_url()` and a registered visibility rule.
    """
    seen: set[int] = set()
    rows: list[Notification] = []
    target_type = ContentType.objects.get_for_model(target) if target is not None else None
    url = target.get_absolute_url() if target is not None else ""
    template = portable(text)
    stored_args = {name: portable(value) for name, value in (args or {}).items()}
    for recipient in recipients:
        if recipient is None or recipient.pk in seen or not recipient.is_active:
            continue
        if actor is not None and recipient.pk == actor.pk:
            continue
        seen.add(recipient.pk)
        if not may_hear_about(recipient, target):
            continue
        wants_email = bool(recipient.email) and recipient.wants_email(kind)
        rows.append(
            Notification(
                recipient=recipient,
                actor=actor,
                kind=kind,
                template=template,
                args=stored_args,
                url=url,
                target_type=target_type,
                target_id=target.pk if target is not None else None,
                send_status=Notification.SendStatus.PENDING if wants_email else Notification.SendStatus.SKIPPED,
            )
        )
    if not rows:
        return []
    created = Notification.objects.bulk_create(rows)
    bump(*(f"notified:{row.recipient_id}" for row in rows))  # their bells' ETags
    outbox.enqueue_on_commit(Notification, [n.pk for n in created if n.send_status == Notification.SendStatus.PENDING])
    return created


def mark_read(user: Any, *, notification_ids: Iterable[int] | None = None) -> int:
    """Mark some (or all) of `user`'s unread notifications read; returns how many changed."""
    now = timezone.now()
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    with transaction.atomic():
        changed = rows.update(read_at=now)
        if changed:
            bump(f"notified:{user.pk}")
    return changed
