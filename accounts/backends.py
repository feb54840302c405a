from __future__ import annotations

from django.contrib.auth.backends import ModelBackend


class BranchAwareModelBackend(ModelBackend):
    """Loads the signed-in user together with their branch.

    Every page shows the user's branch and every selector filters by it, so
    fetching both in one query saves a query on every request.
    """

    def get_user(self, user_id):
        from .models import User

        try:
            user = User.objects.select_related("branch").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
