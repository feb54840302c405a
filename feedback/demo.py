"""Demo customer voice: ~150 survey answers over the last 90 days, recovery
items and voice items in every status.

The repairs demo delivers 30 jobs per branch; a dealership's survey figures
rest on more visits than that, so this adds earlier visits (opened, worked
and delivered through the repairs services, with historical times). Every
invitation, answer, recovery item and voice item is then written through
feedback.services with `at=`, so the demo's timelines and histories are the
ones the portal itself writes. Nothing is mailed: invitations are recorded
as sent, and the staff notifications stay in the portal only. Each branch's
newest invitation stays unanswered, and seed_demo prints 東京東店's link, so
someone trying the demo can answer a survey as the customer would.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import Role, User
from customers.models import Customer
from dealership.models import Branch, Notification
from repairs.models import FINISHED_STATUSES, JobKind, RepairJob, Status
from repairs.services import assign_technician, change_status, create_job

from . import services
from .models import (
    ACTIVE_VOICE_STATUSES,
    CustomerVoice,
    SurveyInvitation,
    VoiceCategory,
    VoiceSource,
    VoiceStatus,
)

# Earlier visits added per branch, on top of the repairs demo's delivered jobs.
PAST_VISITS_PER_BRANCH = 55
ANSWER_RATE = 0.88
PAST_TITLES = {
    JobKind.MAINTENANCE: ["12ヶ月点検", "オイル交換", "6ヶ月点検", "Oil and filter change"],
    JobKind.REPAIR: ["ブレーキパッド交換", "バッテリー交換", "Wiper motor replacement", "エアコン修理"],
    JobKind.SHAKEN: ["車検整備一式"],
    JobKind.ACCESSORY: ["ドライブレコーダー取付", "スタッドレスタイヤ組替"],
    JobKind.WARRANTY: ["保証修理：ナビ不具合"],
}
# (overall, weight) — most customers are satisfied, a few are not.
OVERALL_WEIGHTS = [(5, 44), (4, 34), (3, 12), (2, 6), (1, 4)]
NPS_BY_OVERALL = {5: [9, 10, 10, 9, 8, 10], 4: [7, 8, 8, 9, 6, 7], 3: [5, 6, 7, 6, 4], 2: [3, 4, 5, 2], 1: [0, 1, 2, 3]}
COMMENTS = {
    "ja": {
        "good": [
            "説明が丁寧で安心できました。",
            "予定より早く仕上げていただき助かりました。",
            "代車の手配までスムーズでした。また利用します。",
            "担当の方の対応がとても良かったです。",
            "洗車までしていただき、ありがとうございました。",
        ],
        "mid": [
            "作業内容は満足ですが、待ち時間が少し長かったです。",
            "費用の説明をもう少し早く聞きたかったです。",
            "受付が混雑していました。",
        ],
        "bad": [
            "約束の時間に間に合わず、連絡もありませんでした。",
            "見積もりより高くなった理由の説明がありませんでした。",
            "修理後も異音が消えていません。",
        ],
    },
    "en": {
        "good": [
            "Clear explanation and the car was ready on time. Thank you!",
            "Friendly staff, they even washed the car.",
            "Quick and professional, as always.",
        ],
        "mid": [
            "Good work, but I had to call twice to find out when it would be ready.",
            "The waiting area was crowded.",
        ],
        "bad": [
            "Nobody told me the car would be a day late.",
            "The noise is still there after the repair.",
        ],
    },
}
RESOLUTIONS = [
    "お客様に電話でお詫びし、無償で再点検を実施しました。",
    "担当営業と整備士で訪問し、作業内容を改めてご説明しました。",
    "Called the customer, apologised and booked a free re-check.",
]
VOICE_SCRIPTS = [
    # (category, source, title, description, who raises, owner, with, final status)
    (
        VoiceCategory.REQUEST,
        VoiceSource.SALES_CONVERSATION,
        "次回点検は土曜午前を希望",
        "平日は仕事のため、次回から土曜の午前に入庫したいとのこと。",
        "sales",
        "advisor",
        None,
        VoiceStatus.OPEN,
    ),
    (
        VoiceCategory.COMPLAINT,
        VoiceSource.PHONE,
        "納車時に車内が汚れていた",
        "助手席の足元に泥が残っていたとお電話がありました。",
        "advisor",
        "sales",
        "technician",
        VoiceStatus.IN_PROGRESS,
    ),
    (
        VoiceCategory.PRAISE,
        VoiceSource.WORKSHOP,
        "Customer thanked the technician for the clear photos",
        "The customer said the photos on the approval call made the decision easy.",
        "technician",
        "technician",
        None,
        VoiceStatus.CLOSED,
    ),
    (
        VoiceCategory.QUESTION,
        VoiceSource.PHONE,
        "ハイブリッドバッテリーの保証期間は？",
        "",
        "sales",
        "advisor",
        None,
        VoiceStatus.RESOLVED,
    ),
    (
        VoiceCategory.COMPLAINT,
        VoiceSource.SALES_CONVERSATION,
        "見積もりと請求額が違う",
        "追加作業の説明がなかったとのこと。",
        "sales",
        "advisor",
        "sales",
        VoiceStatus.CLOSED,
    ),
    (
        VoiceCategory.REQUEST,
        VoiceSource.PHONE,
        "Wants an English invoice",
        "Please send invoices in English from now on.",
        "advisor",
        "sales",
        None,
        VoiceStatus.OPEN,
    ),
]


def seed(data: dict, rng: random.Random) -> dict:
    if SurveyInvitation.objects.exists() or CustomerVoice.objects.exists():
        return {}
    started = timezone.now()
    visits = sum(_past_visits(branch, rng) for branch in Branch.objects.all())
    answered, recovery, open_invitation = _surveys(rng)
    items = sum(_voice_items(branch, rng) for branch in Branch.objects.all())
    now = timezone.now()
    # The demo's own history is not news: what it notified is read, except the
    # items still waiting for someone; and nothing is mailed.
    active = CustomerVoice.objects.filter(status__in=ACTIVE_VOICE_STATUSES).values("pk")
    Notification.objects.filter(created_at__gte=started).exclude(
        target_type=ContentType.objects.get_for_model(CustomerVoice), target_id__in=active
    ).update(read_at=now)
    Notification.objects.filter(send_status=Notification.SendStatus.PENDING).update(
        send_status=Notification.SendStatus.SKIPPED
    )
    return {
        "past_visits": visits,
        "survey_answers": answered,
        "recovery_items": recovery,
        "voice_items": items,
        # seed_demo prints it: a survey anyone trying the demo can open and answer.
        "survey_link_url": services.survey_path(open_invitation) if open_invitation else "",
    }


def _staff(branch: Branch) -> dict[str, list[User]]:
    people = list(User.objects.filter(branch=branch, is_active=True).order_by("pk"))
    return {role: [person for person in people if person.role == role] for role in Role.values}


def _past_visits(branch: Branch, rng: random.Random) -> int:
    """Delivered jobs spread over the last 90 days, written through the repairs services."""
    staff = _staff(branch)
    advisor = (staff[Role.SERVICE_ADVISOR] or staff[Role.MANAGER])[0]
    technicians = staff[Role.TECHNICIAN]
    customers = list(Customer.objects.filter(branch=branch).prefetch_related("vehicles").order_by("pk"))
    now = timezone.now()
    kinds = list(PAST_TITLES)
    created = 0
    for index in range(PAST_VISITS_PER_BRANCH):
        customer = customers[index % len(customers)]
        vehicles = list(customer.vehicles.all())
        if not vehicles:
            continue
        kind = kinds[index % len(kinds)]
        received = now - timedelta(days=rng.uniform(2.5, 92))
        planned = timedelta(hours=rng.choice([4, 8, 24, 48]))
        job = create_job(
            by=advisor,
            customer=customer,
            vehicle=vehicles[index % len(vehicles)],
            kind=kind,
            title=rng.choice(PAST_TITLES[kind]),
            promised_at=received + planned,
            at=received,
        )
        if technicians:
            assign_technician(job, technician=technicians[index % len(technicians)], by=advisor)
        late = rng.random() < 0.2
        total = planned * (rng.uniform(1.1, 1.6) if late else rng.uniform(0.5, 0.95))
        at = received
        for step, status in enumerate((Status.IN_PROGRESS, Status.QUALITY_CHECK, Status.READY, Status.DELIVERED)):
            at = min(at + total / 4 * (1 if step < 3 else rng.uniform(1, 3)), now - timedelta(days=1, hours=1))
            change_status(job, to=status, by=advisor, expected_version=None, at=at)
        created += 1
    return created


def _past(moment: datetime) -> datetime:
    """History never runs into the future."""
    return min(moment, timezone.now() - timedelta(minutes=5))


def _waking_hours(moment: datetime, rng: random.Random) -> datetime:
    """Customers answer between 8:00 and 22:00 their time, not at 3 a.m."""
    local = timezone.localtime(moment)
    if 8 <= local.hour < 22:
        return moment
    return local.replace(hour=rng.randint(8, 21), minute=rng.randint(0, 59))


def _weighted_overall(rng: random.Random) -> int:
    return rng.choices([score for score, _ in OVERALL_WEIGHTS], weights=[weight for _, weight in OVERALL_WEIGHTS])[0]


def _near(score: int, rng: random.Random) -> int | None:
    if rng.random() < 0.08:
        return None  # skipped the question
    return max(1, min(5, score + rng.choice([-1, 0, 0, 0, 1])))


def _surveys(rng: random.Random) -> tuple[int, int, SurveyInvitation | None]:
    """Invitations and answers; (answered, recovery items, the 東京東店 invitation left open)."""
    now = timezone.now()
    delay = timedelta(hours=settings.SURVEY_DELAY_HOURS)
    jobs = list(
        RepairJob.objects.filter(status=Status.DELIVERED, delivered_at__lte=now - delay)
        .select_related("customer", "customer__sales_owner", "sales_owner", "service_advisor", "vehicle", "branch")
        .order_by("delivered_at", "pk")
    )
    # Each branch's newest surveyable visit stays unanswered: the demo keeps a
    # survey that someone trying it can open and answer.
    left_open = {job.branch_id: job for job in jobs if job.customer.email}
    open_customers = {job.customer_id for job in left_open.values()}
    answered = recovery = 0
    opted_out: set[int] = set()
    open_invitation = None
    for index, job in enumerate(jobs):
        sent_at = job.delivered_at + delay
        invitation, _created = services.create_invitation(job, at=sent_at, deliver=False)
        if invitation.send_status != SurveyInvitation.SendStatus.PENDING:
            continue
        services.record_survey_sent(invitation, at=sent_at + timedelta(minutes=1))
        if left_open.get(job.branch_id) is job:
            if job.branch.code == "tokyo-east":
                open_invitation = invitation
            continue
        if rng.random() > ANSWER_RATE:
            # One customer in a while asks for no more surveys instead of answering.
            if len(opted_out) < 2 and job.customer_id not in opted_out | open_customers and index % 3 == 0:
                services.opt_out(invitation)
                opted_out.add(job.customer_id)
            continue
        answer_at = _waking_hours(sent_at + timedelta(hours=rng.uniform(1, 96)), rng)
        answer_at = min(answer_at, now - timedelta(minutes=30))
        overall = _weighted_overall(rng)
        language = job.customer.language
        band = "good" if overall >= 4 else ("mid" if overall == 3 else "bad")
        comment = rng.choice(COMMENTS[language][band]) if rng.random() < (0.8 if band != "good" else 0.45) else ""
        response = services.submit_survey(
            invitation,
            answers=services.Answers(
                overall=overall,
                nps=rng.choice(NPS_BY_OVERALL[overall]),
                explanation=_near(overall, rng),
                quality=_near(overall, rng),
                timeliness=_near(overall, rng),
                comment=comment,
                may_contact=rng.random() < (0.7 if band == "bad" else 0.3),
            ),
            language=language,
            at=answer_at,
        )
        answered += 1
        if response.is_low:
            recovery += 1
            # The first one stays open whatever its age, so the demo always
            # shows a recovery item waiting for the sales owner and the advisor.
            if recovery > 1:
                _progress_recovery(response, answer_at, rng)
    return answered, recovery, open_invitation


def _progress_recovery(response, answered_at: datetime, rng: random.Random) -> None:
    """Older recovery items moved on, the way sales and the workshop work them."""
    voice = response.voice_items.select_related("assignee", "co_assignee", "customer", "job").first()
    if voice is None or voice.assignee is None:
        return
    age = timezone.now() - answered_at
    owner, advisor = voice.assignee, voice.co_assignee or voice.assignee
    if age < timedelta(days=2):
        return  # still open: it came in recently
    at = _past(answered_at + timedelta(hours=rng.uniform(2, 20)))
    services.change_voice_status(voice, to=VoiceStatus.IN_PROGRESS, by=owner, at=at)
    if age < timedelta(days=6) and rng.random() < 0.6:
        return
    at = _past(at + timedelta(hours=rng.uniform(4, 30)))
    services.resolve_voice(voice, resolution=rng.choice(RESOLUTIONS), by=advisor, at=at)
    if rng.random() < 0.25:
        return  # resolved, waiting for sales' call
    if owner.role in (Role.SALES_REP, Role.MANAGER):
        at = _past(at + timedelta(hours=rng.uniform(2, 24)))
        services.confirm_follow_up(voice, by=owner, note="お客様にお電話し、ご納得いただきました。", at=at)
        services.change_voice_status(voice, to=VoiceStatus.CLOSED, by=owner, at=_past(at + timedelta(hours=1)))


def _voice_items(branch: Branch, rng: random.Random) -> int:
    staff = _staff(branch)
    people = {
        "sales": (staff[Role.SALES_REP] or staff[Role.MANAGER])[0],
        "advisor": (staff[Role.SERVICE_ADVISOR] or staff[Role.MANAGER])[0],
        "technician": (staff[Role.TECHNICIAN] or staff[Role.MANAGER])[0],
    }
    customers = list(Customer.objects.filter(branch=branch).order_by("pk"))
    now = timezone.now()
    created = 0
    for index, (category, source, title, description, raiser, owner, partner, final) in enumerate(VOICE_SCRIPTS):
        customer = customers[(index * 3) % len(customers)]
        job = RepairJob.objects.filter(customer=customer, status__in=FINISHED_STATUSES).order_by("-pk").first()
        at = now - timedelta(days=rng.uniform(2, 25))
        due = (at + timedelta(days=rng.choice([2, 3, 7]))).date()
        voice = services.record_voice(
            by=people[raiser],
            customer=customer,
            job=job,
            source=source,
            category=category,
            title=title,
            description=description,
            assignee=people[owner],
            co_assignee=people[partner] if partner else None,
            due_date=due,
            at=at,
        )
        created += 1
        actor = people[owner]
        if final == VoiceStatus.OPEN:
            continue
        at = _past(at + timedelta(hours=rng.uniform(2, 30)))
        services.change_voice_status(voice, to=VoiceStatus.IN_PROGRESS, by=actor, at=at)
        if final == VoiceStatus.IN_PROGRESS:
            continue
        at = _past(at + timedelta(hours=rng.uniform(2, 30)))
        services.resolve_voice(voice, resolution=rng.choice(RESOLUTIONS), by=actor, at=at)
        if final == VoiceStatus.RESOLVED:
            continue
        if voice.needs_follow_up:
            at = _past(at + timedelta(hours=2))
            services.confirm_follow_up(voice, by=people["sales"], at=at)
        services.change_voice_status(voice, to=VoiceStatus.CLOSED, by=actor, at=_past(at + timedelta(hours=1)))
    return created
