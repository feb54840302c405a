from __future__ import annotations

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

CHOSEN_LANGUAGE_SESSION_KEY = "chosen_language"


@receiver(user_logged_in)
def keep_the_language_chosen_before_signing_in(sender, request, user, **kwargs) -> None:
    """A language picked on the login page of this visit becomes the account's language."""
    if request is None:
        return
    language = request.session.pop(CHOSEN_LANGUAGE_SESSION_KEY, None)
    if language and language != user.language:
        user.language = language
        user.save(update_fields=["language"])
