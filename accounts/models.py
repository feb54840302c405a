"""Staff accounts: e-mail login, department, role, branch, language, preferences."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dealership.models import Branch, Language


class Department(models.TextChoices):
    SALES = "sales", _("Sales")
    SERVICE = "service", _("Service")
    MANAGEMENT = "management", _("Management")


class Role(models.TextChoices):
    SALES_REP = "sales_rep", _("Sales rep")
    SERVICE_ADVISOR = "service_advisor", _("Service advisor")
    TECHNICIAN = "technician", _("Technician")
    MANAGER = "manager", _("Manager")


# The department each role normally belongs to; the invitation form checks it.
ROLE_DEPARTMENTS: dict[str, set[str]] = {
    Role.SALES_REP: {Department.SALES},
    Role.SERVICE_ADVISOR: {Department.SERVICE},
    Role.TECHNICIAN: {Department.SERVICE},
    Role.MANAGER: {Department.MANAGEMENT, Department.SALES, Department.SERVICE},
}


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        fields.setdefault("role", Role.MANAGER)
        fields.setdefault("department", Department.MANAGEMENT)
        fields.setdefault("all_branches", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("e-mail"), unique=True)
    display_name = models.CharField(_("display name"), max_length=100)
    department = models.CharField(_("department"), max_length=20, choices=Department.choices, default=Department.SALES)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("branch")
    )
    all_branches = models.BooleanField(
        _("sees all branches"), default=False, help_text=_("Managers with this scope see every branch.")
    )
    language = models.CharField(_("language"), max_length=5, choices=Language.choices, default=Language.JA)
    # {notification kind: bool}; a kind missing from the dict means "e-mail me".
    email_preferences = models.JSONField(_("e-mail preferences"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("admin site access"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["display_name"]

    class Meta:
        ordering = ["display_name"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")

    def __str__(self) -> str:
        return self.display_name or self.email

    def get_full_name(self) -> str:
        return self.display_name

    def get_short_name(self) -> str:
        return self.display_name

    @property
    def is_manager(self) -> bool:
        return self.role == Role.MANAGER

    @property
    def is_sales(self) -> bool:
        return self.role == Role.SALES_REP

    @property
    def is_technician(self) -> bool:
        return self.role == Role.TECHNICIAN

    @property
    def is_advisor(self) -> bool:
        return self.role == Role.SERVICE_ADVISOR

    @property
    def sees_all_branches(self) -> bool:
        return self.is_superuser or (self.is_manager and self.all_branches)

    def wants_email(self, kind: str) -> bool:
        return bool(self.email_preferences.get(kind, True))


class Invitation(models.Model):
    """A one-time, expiring link that lets an invited staff member set a password.

    Only a hash of the token is stored, so a database leak reveals no usable link.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("staff member"))
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("invited by")
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d})"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, invited_by: User | None) -> tuple[Invitation, str]:
        token = secrets.token_urlsafe(32)
        invitation = cls.objects.create(
            user=user,
            invited_by=invited_by,
            token_hash=cls.hash_token(token),
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        return invitation, token

    @property
    def is_expired(self) -> bool:
        return timezone.now() >= self.expires_at


__all__ = ["Department", "Invitation", "Role", "User"]
