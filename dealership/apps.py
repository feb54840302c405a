from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DealershipConfig(AppConfig):
    name = "dealership"
    verbose_name = _("Dealership")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_save

        from .versions import forget_viewers

        def forget_saved_user(sender, instance, **kwargs) -> None:
            # Role, branch, language, password: what the cached viewer holds.
            forget_viewers([instance.pk])

        post_save.connect(forget_saved_user, sender=get_user_model(), dispatch_uid="forget-viewer-on-save")
