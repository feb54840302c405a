"""allauth pages the portal replaces; included just before `allauth.urls` so these win.

Staff login e-mails are the manager's to change (Team page, which keeps the
user row and allauth's address rows in step). allauth's own e-mail page let
anyone add or switch their login address with no check, so it is switched off.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("email/", views.login_email_managed_by_manager, name="account_email"),
]
