"""Demo team life for each branch: past events with attendance, minutes and
action items (some done, some open), upcoming ones with answers, and job
shadowing pairs across the two departments.

Everything is written through the services, with historical times passed as
`at` where the service takes one, so the demo shows what the portal itself
writes. Notifications about past events are marked read and no e-mail goes
out for the demo's own history.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from accounts.models import Department, Role, User
from dealership.models import Branch, Notification

from . import services
from .models import RSVP, ActionItem, EventKind, TeamEvent

ALL = [Department.SALES, Department.SERVICE, Department.MANAGEMENT]
BOTH = [Department.SALES, Department.SERVICE]

# (days from today, start, end, kind, title, place, agenda, departments)
PAST = [
    (
        -21,
        time(18),
        time(19),
        EventKind.BRIEFING,
        "業務説明会：営業の一日（商談から納車まで）",
        "ショールーム 商談スペース",
        "\n".join(
            [
                "1. 来店から商談までの流れ",
                "2. 見積・下取り査定の依頼のしかた",
                "3. 納車前整備（PDI）の依頼で整備に伝えてほしいこと",
            ]
        ),
        BOTH,
    ),
    (
        -14,
        time(10),
        time(15),
        EventKind.SHADOWING,
        "現場体験：整備士が店頭で接客を体験",
        "ショールーム",
        "整備士が営業スタッフに付いて、来店対応・電話対応・納車説明を見学します。",
        [],
    ),
    (
        -7,
        time(18),
        time(19, 30),
        EventKind.STUDY,
        "勉強会：ハイブリッド車の高電圧系 安全講習",
        "工場 2番ピット",
        "\n".join(
            [
                "講師：整備 太郎",
                "1. 高電圧系の仕組み",
                "2. お客様に説明するときのポイント",
                "3. 質疑応答",
            ]
        ),
        ALL,
    ),
    (
        -3,
        time(9),
        time(10),
        EventKind.MEETING,
        "月次 営業・サービス合同会議",
        "2階 会議室",
        "1. 先月の納車・入庫実績\n2. 約束時刻の遵守率\n3. お客様の声の共有",
        ALL,
    ),
]
UPCOMING = [
    (
        1,
        time(18),
        time(19),
        EventKind.STUDY,
        "勉強会：新型車の装備説明（営業→整備）",
        "ショールーム",
        "営業スタッフが新型車の先進安全装備とナビ連携を説明します。整備からの質問歓迎。",
        ALL,
    ),
    (
        2,
        time(9),
        time(9, 30),
        EventKind.MEETING,
        "週次 合同ミーティング",
        "2階 会議室",
        "今週の入庫予定と納車予定の確認",
        ALL,
    ),
    (
        6,
        time(13),
        time(17),
        EventKind.SHADOWING,
        "現場体験：営業スタッフの整備工場体験",
        "整備工場",
        "営業スタッフが整備士に付いて、受入点検から完成検査までを見学します。作業着を用意します。",
        [],
    ),
    (
        10,
        time(19),
        time(21),
        EventKind.SOCIAL,
        "懇親会：秋の焼肉会",
        "焼肉 はなび 錦糸町店",
        "会費 3,000円（残りは会社負担）。ご家族の参加も歓迎です。",
        ALL,
    ),
]
MINUTES = {
    EventKind.BRIEFING: "\n".join(
        [
            "・商談中に整備へ確認したいことは、作業のスレッドに書く。",
            "・PDIの依頼は納車日の3営業日前までに。",
            "・下取り車の査定依頼には走行距離と修復歴の有無を添える。",
        ]
    ),
    EventKind.SHADOWING: "\n".join(
        [
            "・整備士から「お客様が何を不安に思っているかが分かった」との声。",
            "・見積の説明で専門用語を減らす工夫を整備側でも考える。",
        ]
    ),
    EventKind.STUDY: "\n".join(
        [
            "・HV車の点検時は高電圧系の注意事項をお客様にも一言伝える。",
            "・営業向けの説明シートを作成する（担当：営業）。",
            "・次回は営業が講師で新型車の装備説明。",
        ]
    ),
    EventKind.MEETING: "\n".join(
        [
            "・約束時刻の遵守率は92%。遅れの半分は部品待ち。",
            "・部品待ちになったら、その場で担当営業へ連絡する。",
            "・お客様の声：代車の案内が分かりにくいとの意見あり。",
        ]
    ),
}
ACTIONS = {
    EventKind.BRIEFING: [("整備士向けに商談の流れを1枚にまとめて共有する", "sales", 10, True)],
    EventKind.SHADOWING: [("見積説明で使う言い換え集を作る", "technician", 14, True)],
    EventKind.STUDY: [
        ("お客様向けにHV点検の説明シートを作る", "sales", 5, False),
        ("高電圧系作業の注意掲示を工場に貼る", "technician", -2, False),
    ],
    EventKind.MEETING: [
        ("部品待ちの連絡ルールを工場内に掲示する", "advisor", 4, False),
        ("代車案内の文面を見直す", "sales", 7, False),
        ("先月の遅延理由を集計して共有する", "advisor", -1, True),
    ],
}


def _at(days: int, moment: time) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return datetime.combine(day, moment, tzinfo=timezone.get_current_timezone())


def seed(data: dict, rng: random.Random) -> dict:
    planned = 0
    for branch in Branch.objects.all():
        if TeamEvent.objects.filter(branch=branch).exists():
            continue
        planned += _seed_branch(branch, rng)
    if planned:
        _quiet_history()
    return {"events_planned": planned}


def _people(branch: Branch) -> dict[str, list[User]]:
    staff = list(User.objects.filter(branch=branch, is_active=True).order_by("pk"))
    return {
        "manager": [u for u in staff if u.role == Role.MANAGER and not u.all_branches],
        "sales": [u for u in staff if u.role == Role.SALES_REP],
        "technician": [u for u in staff if u.role == Role.TECHNICIAN],
        "advisor": [u for u in staff if u.role == Role.SERVICE_ADVISOR],
        "all": staff,
    }


def _pairs(people: dict[str, list[User]], *, technicians_visit: bool) -> list[services.Pair]:
    pairs = []
    for sales, technician in zip(people["sales"], people["technician"], strict=False):
        visitor, host = (technician, sales) if technicians_visit else (sales, technician)
        pairs.append(services.Pair(visitor=visitor, host=host))
    return pairs


def _seed_branch(branch: Branch, rng: random.Random) -> int:
    people = _people(branch)
    if not people["manager"] or not people["sales"] or not people["technician"]:
        return 0
    manager = people["manager"][0]
    count = 0
    for index, (days, start, end, kind, title, place, agenda, departments) in enumerate(PAST + UPCOMING):
        pairs = []
        if kind == EventKind.SHADOWING:
            pairs = _pairs(people, technicians_visit=days < 0)
        event = services.plan_event(
            by=manager,
            branch=branch,
            kind=kind,
            title=title,
            agenda=agenda,
            place=place,
            starts_at=_at(days, start),
            ends_at=_at(days, end),
            invited_departments=departments,
            pairs=pairs,
            at=_at(min(days, 0) - 7, time(12)),
        )
        count += 1
        invited = list(event.participants.exclude(user=manager).select_related("user"))
        for row in invited:
            # Most answer; the upcoming social still has some people thinking.
            roll = rng.random()
            if days > 0 and roll < 0.2:
                continue
            answer = RSVP.YES if roll < 0.75 else (RSVP.MAYBE if roll < 0.9 else RSVP.NO)
            if pairs:
                answer = RSVP.YES
            # Past events are answered as of a day after they were planned.
            answered = None if days > 0 else event.created_at + timedelta(days=1)
            services.rsvp(event, by=row.user, answer=answer, at=answered)
        if days < 0:
            _follow_up(event, manager, people, rng, index)
    return count


def _follow_up(event: TeamEvent, manager: User, people: dict[str, list[User]], rng: random.Random, index: int) -> None:
    rows = list(event.participants.select_related("user"))
    attendees = [row.user for row in rows if row.rsvp == RSVP.YES or (row.rsvp == RSVP.MAYBE and rng.random() < 0.5)]
    services.record_attendance(event, by=manager, attendees=attendees, minutes=MINUTES.get(event.kind, ""))
    for text, role, due_in, done in ACTIONS.get(event.kind, []):
        assignee = people[role][0] if people.get(role) else manager
        due = timezone.localdate() + timedelta(days=due_in)
        item = services.add_action_item(
            event, by=manager, text=text, assignee=assignee, due_date=due, at=event.ends_at + timedelta(hours=1)
        )
        if done:
            done_at = min(event.ends_at + timedelta(days=rng.randint(1, 5)), timezone.now())
            services.complete_action_item(item, by=assignee, at=done_at)


def _quiet_history() -> None:
    """Past events' notifications read, finished items' alerts read, no mail for the demo's history."""
    now = timezone.now()
    event_type = ContentType.objects.get_for_model(TeamEvent)
    item_type = ContentType.objects.get_for_model(ActionItem)
    Notification.objects.filter(
        target_type=event_type, target_id__in=TeamEvent.objects.filter(ends_at__lt=now).values("pk")
    ).update(read_at=now)
    Notification.objects.filter(
        target_type=item_type, target_id__in=ActionItem.objects.filter(done_at__isnull=False).values("pk")
    ).update(read_at=now)
    Notification.objects.filter(
        target_type__in=[event_type, item_type], send_status=Notification.SendStatus.PENDING
    ).update(send_status=Notification.SendStatus.SKIPPED)
