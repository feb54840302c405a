"""E-mails as template triplets: emails/<name>/{subject.txt,body.txt,body.html}."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string, select_template
from django.utils import translation


def send_templated_email(
    *, to: str, templates: list[str], context: dict[str, Any], language: str, headers: dict[str, str] | None = None
) -> None:
    """Render the first existing template set of `templates` in `language` and send it.

    Raises whatever the e-mail backend raises; callers decide about retries.
    """
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language):
        subject_template = select_template([f"emails/{name}/subject.txt" for name in templates])
        base = subject_template.template.name.rsplit("/", 1)[0]
        subject = " ".join(render_to_string(f"{base}/subject.txt", context).split())
        text = render_to_string(f"{base}/body.txt", context)
        html = render_to_string(f"{base}/body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to], headers=headers)
    message.attach_alternative(html, "text/html")
    message.send()


def send_notification_email(notification: Any) -> None:
    recipient = notification.recipient
    send_templated_email(
        to=recipient.email,
        templates=[notification.kind, "notification"],
        context={
            "notification": notification,
            "recipient": recipient,
            "link": f"{settings.SITE_URL}{notification.url}" if notification.url else settings.SITE_URL,
        },
        language=recipient.language,
        # Lets support (and the benchmark) trace an e-mail back to its row.
        headers={"X-Portal-Notification": str(notification.pk)},
    )
