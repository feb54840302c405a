"""Someone who moves to another branch lets go of their open jobs in the old one.

A receiver on the user row rather than a call in the Team page's service, so
that every path that moves a person (the Team page, the Django admin, a
script) releases the jobs the same way: the jobs go back to the old branch's
pool, each with a timeline row, and its advisors are told.
"""

from __future__ import annotations

from django.db.models.signals import post_save, pre_save
from django.dispatch import receiver

from accounts.models import User

from .services import release_jobs_of


@receiver(pre_save, sender=User)
def remember_previous_branch(sender, instance: User, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or instance.pk is None or (update_fields is not None and "branch" not in update_fields):
        return
    instance._previous_branch_id = User.objects.filter(pk=instance.pk).values_list("branch_id", flat=True).first()


@receiver(post_save, sender=User)
def release_jobs_after_branch_move(sender, instance: User, created: bool, raw: bool = False, **kwargs) -> None:
    previous = getattr(instance, "_previous_branch_id", None)
    instance._previous_branch_id = None
    if raw or created or previous is None or previous == instance.branch_id:
        return
    release_jobs_of(instance, branch_id=previous, by=None)
