"""Every notification kind has its own e-mail, in the recipient's language.

The per-kind template sets (templates/emails/<kind>/) extend the shared
templates/emails/base_subject.txt, base_body.txt and base_body.html and add a
subject prefix, one intro sentence and a call to action.
"""

from __future__ import annotations

import pytest

from dealership.emails import send_notification_email
from dealership.models import Notification
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SITE_URL = "http://testserver"
Kind = Notification.Kind

# kind: {language: (subject prefix, intro sentence)}
EXPECTED = {
    Kind.STATUS_CHANGED: {
        "en": ("[Status update] ", "The status of your customer's car changed."),
        "ja": ("【ステータス更新】", "担当のお客様のお車のステータスが変わりました。"),
    },
    Kind.JOB_ASSIGNED: {
        "en": ("[Job assigned] ", "A job was assigned to you in the workshop."),
        "ja": ("【作業割り当て】", "工場であなたに作業が割り当てられました。"),
    },
    Kind.APPROVAL_REQUESTED: {
        "en": (
            "[Approval needed] ",
            "The workshop needs the customer's approval before going on. Please contact the customer.",
        ),
        "ja": (
            "【要承認】",
            "工場から、作業を進める前にお客様の承認が必要との連絡がありました。お客様にご連絡ください。",
        ),
    },
    Kind.APPROVAL_DECIDED: {
        "en": ("[Approval decided] ", "The customer's decision on the extra work is in."),
        "ja": ("【承認結果】", "追加作業についてお客様の回答が届きました。"),
    },
    Kind.MESSAGE: {
        "en": ("[New message] ", "There is a new message on a job you are part of."),
        "ja": ("【新着メッセージ】", "あなたが関わっている作業に新しいメッセージがあります。"),
    },
    Kind.MENTION: {
        "en": ("[Mention] ", "You were mentioned in a job's conversation."),
        "ja": ("【メンション】", "作業のやり取りであなたがメンションされました。"),
    },
    Kind.CUSTOMER_REQUEST: {
        "en": ("[Customer request] ", "Sales relayed a request from the customer on your job."),
        "ja": ("【お客様のご要望】", "担当作業について、営業からお客様のご要望が届きました。"),
    },
    Kind.SALES_LEAD: {
        "en": ("[Sales lead] ", "The workshop flagged a sales opportunity for you."),
        "ja": ("【商談見込み】", "工場から、あなた宛ての商談見込みが届きました。"),
    },
    Kind.JOB_CREATED: {
        "en": ("[New job] ", "Sales or the front desk opened a job for the workshop."),
        "ja": ("【新規作業】", "営業または受付が工場への作業を登録しました。"),
    },
    Kind.JOB_CLAIMED: {
        "en": ("[Job taken] ", "A technician took your customer's job."),
        "ja": ("【作業引き受け】", "担当のお客様の作業を技術者が引き受けました。"),
    },
    Kind.PROMISE_CHANGED: {
        "en": ("[Promise changed] ", "The time promised to your customer changed. The customer may ask you about it."),
        "ja": ("【約束時刻変更】", "お客様との約束時刻が変更されました。お客様から問い合わせがあるかもしれません。"),
    },
    Kind.APPROVAL_REMINDER: {
        "en": (
            "[Approval still waiting] ",
            "The workshop is still waiting for the customer's answer on extra work. Please call the customer, "
            "or record that you could not reach them.",
        ),
        "ja": (
            "【承認待ちが続いています】",
            "工場は追加作業へのお客様の回答をまだ待っています。お客様に連絡するか、連絡がつかなかったことを記録してください。",
        ),
    },
    Kind.LEAD_UPDATED: {
        "en": ("[Your lead] ", "Sales followed up the lead you flagged. Here is what became of it."),
        "ja": ("【あなたのリード】", "あなたが登録したリードに営業が対応しました。結果は次のとおりです。"),
    },
    Kind.SURVEY_LOW_SCORE: {
        "en": (
            "[Low survey score] ",
            "A customer answered the survey with a low score. Call them back together with the workshop.",
        ),
        "ja": (
            "【アンケート低評価】",
            "お客様がアンケートに低評価で回答しました。工場と一緒にお客様へ連絡してください。",
        ),
    },
    Kind.VOICE_ASSIGNED: {
        "en": ("[Customer voice] ", "A customer voice item is now yours."),
        "ja": ("【顧客の声】", "顧客の声があなたの担当になりました。"),
    },
    Kind.VOICE_UPDATED: {
        "en": ("[Customer voice] ", "A customer voice item you are on changed."),
        "ja": ("【顧客の声】", "担当している顧客の声が更新されました。"),
    },
    Kind.EVENT_INVITED: {
        "en": (
            "[Team event] ",
            "You are invited to a team event. Answer with one click on its page; "
            "it can go straight into your calendar.",
        ),
        "ja": (
            "【チームイベント】",
            "チームイベントに招待されました。イベントのページでワンクリックで回答でき、カレンダーにも追加できます。",
        ),
    },
    Kind.EVENT_CHANGED: {
        "en": ("[Event changed] ", "A team event you are invited to has changed or was cancelled."),
        "ja": ("【イベント変更】", "招待されているチームイベントが変更または中止されました。"),
    },
    Kind.EVENT_REMINDER: {
        "en": ("[Reminder] ", "A reminder of a team event coming up."),
        "ja": ("【リマインダー】", "まもなく開催されるチームイベントのお知らせです。"),
    },
    Kind.ACTION_ITEM: {
        "en": (
            "[Action item] ",
            "A team meeting gave you an action item. It stays on your home page until it is done.",
        ),
        "ja": (
            "【アクション項目】",
            "チームの会議であなたにアクション項目が割り当てられました。完了するまでホーム画面に表示されます。",
        ),
    },
    Kind.JOB_OVERDUE: {
        "en": ("[Overdue] ", "A job missed, or is about to miss, the time promised to the customer."),
        "ja": ("【期限注意】", "お客様との約束時刻を過ぎた、または間に合わなくなりそうな作業があります。"),
    },
}
PORTAL = {"en": "[Dealership Portal] ", "ja": "[ディーラー連携ポータル] "}
ACTOR_LINE = {"en": "By Tanaka & Sons' mechanic", "ja": "Tanaka & Sons' mechanic さんより"}
# Quotes and ampersands show that plain-text parts are not HTML-escaped.
TEXT = {"en": "R-0042 Prius: Ken's brakes & pads", "ja": "R-0042 プリウス：ブレーキ & パッド交換"}


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = SITE_URL


def send(kind: str, language: str, *, url: str = "/jobs/42/", actor: bool = True):
    recipient = UserFactory(language=language, display_name="Suzuki Hanako")
    notification = Notification.objects.create(
        recipient=recipient,
        actor=UserFactory(display_name="Tanaka & Sons' mechanic") if actor else None,
        kind=kind,
        template=TEXT[language],
        url=url,
    )
    send_notification_email(notification)
    return recipient


def test_every_notification_kind_has_an_expected_intro_in_both_languages():
    assert set(EXPECTED) == set(Kind)
    assert all(set(languages) == {"en", "ja"} for languages in EXPECTED.values())


@pytest.mark.parametrize("language", ["en", "ja"])
@pytest.mark.parametrize("kind", Kind.values)
def test_each_kind_sends_one_e_mail_with_its_own_intro_in_the_recipients_language(kind, language, mailoutbox):
    recipient = send(kind, language)
    prefix, intro = EXPECTED[kind][language]
    english_intro = EXPECTED[kind]["en"][1]
    link = f"{SITE_URL}/jobs/42/"

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [recipient.email]

    assert message.subject == f"{PORTAL[language]}{prefix}{TEXT[language]}"
    assert "\n" not in message.subject

    body = message.body
    assert TEXT[language] in body
    assert link in body
    assert intro in body
    assert ACTOR_LINE[language] in body
    assert f"{SITE_URL}/staff/settings/" in body
    if language == "ja":
        assert english_intro not in body
        assert "Suzuki Hanako さん" in body

    assert len(message.alternatives) == 1
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f'<html lang="{language}">' in html
    assert f'<a href="{link}">' in html
    assert f'<a href="{SITE_URL}/staff/settings/">' in html
    assert "Ken&#x27;s brakes &amp; pads" in html or language == "ja"


def test_a_notification_without_link_or_actor_points_to_the_portal(mailoutbox):
    send(Kind.JOB_ASSIGNED, "en", url="", actor=False)

    body = mailoutbox[0].body
    assert f"Open the job:\n{SITE_URL}\n" in body
    assert "By " not in body
    assert f'<a href="{SITE_URL}">' in mailoutbox[0].alternatives[0][0]


def test_a_kind_without_its_own_templates_falls_back_to_the_generic_e_mail(mailoutbox):
    recipient = UserFactory(language="en")
    notification = Notification(recipient=recipient, kind="something_new", template="Something happened", url="/x/")

    send_notification_email(notification)

    message = mailoutbox[0]
    assert message.subject == "[Dealership Portal] Something happened"
    assert "You have a new notification in the dealership portal." in message.body
    assert f"Open it in the portal:\n{SITE_URL}/x/" in message.body
