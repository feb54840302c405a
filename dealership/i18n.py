"""Texts that are stored now and translated when they are read.

A notification or a timeline row is written once and read later by people
who read Japanese or English, so it stores the message id (and context) of
its texts, not the text (`dealership.notifications.portable`), and
translates them for each reader (`dealership.models.render_portable`).

Django's lazy strings keep what they translate to themselves (in private
attributes), so a text that will be stored is made with the two functions
below. They return Django's own lazy strings, which behave everywhere as
before (choice labels, forms, templates), and note what each one
translates; `message_of()` reads the note. Use them for `_` in every module
whose texts or choice labels reach `notify()` or a timeline row:

    from dealership.i18n import gettext_lazy as _
    from dealership.i18n import pgettext_lazy

`makemessages` finds these calls as it finds Django's: by their names.
"""

from __future__ import annotations

import weakref

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as django_gettext_lazy
from django.utils.translation import pgettext_lazy as django_pgettext_lazy

# id of a living lazy string → (message id,) or (context, message id).
_MESSAGES: dict[int, tuple[str, ...]] = {}


def _remember(text: Promise, message: tuple[str, ...]) -> Promise:
    key = id(text)
    _MESSAGES[key] = message
    # A text made inside a function dies with the call: forget it then, before
    # another object can be born with the same id.
    weakref.finalize(text, _MESSAGES.pop, key, None)
    return text


def gettext_lazy(message: str) -> Promise:
    """Django's `gettext_lazy(message)`, which `message_of()` can read back."""
    return _remember(django_gettext_lazy(message), (message,))


def pgettext_lazy(context: str, message: str) -> Promise:
    """Django's `pgettext_lazy(context, message)`, which `message_of()` can read back."""
    return _remember(django_pgettext_lazy(context, message), (context, message))


def message_of(text: Promise) -> tuple[str, ...] | None:
    """`(message id,)` or `(context, message id)` of a text made here; None for any other."""
    return _MESSAGES.get(id(text))
