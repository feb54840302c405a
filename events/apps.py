from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Team events")

    def ready(self) -> None:
        from dealership.notifications import register_visibility

        from . import permissions
        from .models import ActionItem, TeamEvent

        # notify() tells only people who may open what it links to, by the
        # same rule as the page itself.
        register_visibility(TeamEvent, permissions.can_see_event)
        register_visibility(
            ActionItem, lambda user, item: permissions.can_see_event(user, item.event), related=("event",)
        )
