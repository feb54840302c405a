from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = _("Customer voice")

    def ready(self) -> None:
        from dealership.notifications import register_visibility

        from . import permissions
        from .models import CustomerVoice

        # notify() tells only people who may open the item, by its page's own rule.
        register_visibility(CustomerVoice, permissions.can_see_voice)
