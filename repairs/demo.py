"""Demo workshop: ~60 jobs per branch in every status and kind, with histories
spread over the last 90 days (realistic turnarounds, some promises missed).

Every job is opened, assigned and moved through the services, with the
historical time passed as `at`, so the demo's timelines and notifications are
exactly what the portal itself writes. Notifications about finished jobs are
marked read afterwards (nobody wants 200 unread items on day one).
"""

from __future__ import annotations

import io
import random
from datetime import timedelta

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Q
from django.utils import timezone
from PIL import Image, ImageDraw

from accounts.models import Role, User
from customers.models import Customer
from dealership import versions
from dealership.models import Branch, Notification

from . import permissions
from .approvals import record_approval_decision, request_approval
from .images import process_photo
from .leads import flag_sales_lead, update_lead
from .models import (
    FINISHED_STATUSES,
    INTERNAL_KINDS,
    OPEN_APPROVAL_STATUSES,
    ApprovalRequest,
    CustomerStatusLink,
    JobKind,
    JobMessage,
    Priority,
    RepairJob,
    SalesLead,
    Status,
)
from .services import assign_technician, change_status, create_job, post_message
from .status_links import create_status_link

S = Status
PATHS: dict[str, list[str]] = {
    S.RECEIVED: [S.RECEIVED],
    S.DIAGNOSING: [S.RECEIVED, S.DIAGNOSING],
    S.AWAITING_APPROVAL: [S.RECEIVED, S.DIAGNOSING, S.AWAITING_APPROVAL],
    S.AWAITING_PARTS: [S.RECEIVED, S.DIAGNOSING, S.IN_PROGRESS, S.AWAITING_PARTS],
    S.IN_PROGRESS: [S.RECEIVED, S.DIAGNOSING, S.IN_PROGRESS],
    S.QUALITY_CHECK: [S.RECEIVED, S.DIAGNOSING, S.IN_PROGRESS, S.QUALITY_CHECK],
    S.READY: [S.RECEIVED, S.DIAGNOSING, S.IN_PROGRESS, S.QUALITY_CHECK, S.READY],
    S.DELIVERED: [S.RECEIVED, S.DIAGNOSING, S.IN_PROGRESS, S.QUALITY_CHECK, S.READY, S.DELIVERED],
    S.ON_HOLD: [S.RECEIVED, S.DIAGNOSING, S.ON_HOLD],
    S.CANCELLED: [S.RECEIVED, S.DIAGNOSING, S.CANCELLED],
}
DETOURS = {
    S.DIAGNOSING: [S.AWAITING_APPROVAL],
    S.IN_PROGRESS: [S.AWAITING_PARTS, S.IN_PROGRESS],
}
# How many jobs of each final status a branch gets (60 in all).
MIX = {
    S.DELIVERED: 30,
    S.CANCELLED: 3,
    S.ON_HOLD: 2,
    S.RECEIVED: 4,
    S.DIAGNOSING: 4,
    S.AWAITING_APPROVAL: 4,
    S.AWAITING_PARTS: 3,
    S.IN_PROGRESS: 5,
    S.QUALITY_CHECK: 2,
    S.READY: 3,
}
TITLES = {
    JobKind.REPAIR: ["ブレーキ異音の修理", "エアコン効きが悪い", "バッテリー交換", "Rear wiper motor failure"],
    JobKind.MAINTENANCE: ["12ヶ月点検", "オイル交換・フィルター交換", "6ヶ月点検", "Tyre rotation and check"],
    JobKind.SHAKEN: ["車検整備一式", "車検（ユーザー代行）"],
    JobKind.PDI: ["新車納車前整備", "新車登録・コーティング施工"],
    JobKind.ACCESSORY: ["ドライブレコーダー取付", "ETC2.0 取付", "スタッドレスタイヤ組替"],
    JobKind.TRADE_IN: ["下取り車査定点検", "下取り車の修復歴確認"],
    JobKind.WARRANTY: ["保証修理：ナビ不具合", "保証修理：パワースライドドア"],
}
REQUESTS = [
    "朝9時に持ち込み、夕方までに仕上げてほしい。代車希望。",
    "異音はブレーキを踏んだときにキーキー鳴るとのこと。",
    "費用が3万円を超える場合は事前に電話連絡がほしい。",
    "Please call before any extra work; the customer prefers English.",
    "納車日に家族で来店予定。洗車をお願いします。",
    "",
]
NOTES = ["", "", "部品の在庫確認済み", "お客様へ電話連絡済み", "試運転OK", "Checked with the customer"]


def seed(data: dict, rng: random.Random) -> dict:
    created = 0
    for branch in Branch.objects.all():
        if RepairJob.objects.filter(branch=branch).exists():
            continue
        created += _seed_branch(branch, rng)
    return {"jobs_created": created, **seed_threads(data, rng), **seed_approvals_leads_links(data, rng)}


def _seed_branch(branch: Branch, rng: random.Random) -> int:
    now = timezone.now()
    customers = list(Customer.objects.filter(branch=branch).prefetch_related("vehicles").select_related("sales_owner"))
    staff = User.objects.filter(branch=branch, is_active=True)
    technicians = list(staff.filter(role=Role.TECHNICIAN))
    advisor = staff.filter(role=Role.SERVICE_ADVISOR).first()
    finals = [status for status, count in MIX.items() for _ in range(count)]
    kinds = list(JobKind.values)
    jobs = 0
    for index, final in enumerate(finals):
        customer = customers[index % len(customers)]
        vehicle = customer.vehicles.all()[index % customer.vehicles.count()] if customer.vehicles.exists() else None
        if vehicle is None:
            continue
        kind = kinds[index % len(kinds)]
        finished = final in (S.DELIVERED, S.CANCELLED)
        received_at = now - (timedelta(days=rng.uniform(3, 90)) if finished else timedelta(hours=rng.uniform(1, 96)))
        planned = timedelta(hours=rng.choice([4, 8, 24, 48, 72, 96]))
        promised_at = received_at + planned
        if not finished and rng.random() < 0.75:
            # Most cars still in the shop are on schedule; a quarter run late.
            promised_at = now + timedelta(hours=rng.uniform(1, 48))
        path = _path(final, rng)
        sales_owner = customer.sales_owner
        requested_by = sales_owner if kind in INTERNAL_KINDS else (advisor or sales_owner)
        technician = None if final == S.RECEIVED and index % 2 == 0 else technicians[index % len(technicians)]
        opener = requested_by or advisor
        job = create_job(
            by=opener,
            customer=customer,
            vehicle=vehicle,
            kind=kind,
            title=rng.choice(TITLES[kind]),
            customer_request=rng.choice(REQUESTS),
            promised_at=promised_at,
            priority=rng.choice([Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.NORMAL, Priority.LOW]),
            at=received_at,
        )
        if job.service_advisor_id is None and advisor is not None:
            RepairJob.objects.filter(pk=job.pk).update(service_advisor=advisor)
            job.service_advisor = advisor
        if technician is not None:
            assign_technician(job, technician=technician, by=advisor)
        # Spread the moves over the planned time; about one job in four runs late.
        total = planned * (rng.uniform(1.05, 1.8) if rng.random() < 0.25 else rng.uniform(0.4, 0.95))
        if not finished:
            total = min(total, now - received_at)
        at = received_at
        for step, status in enumerate(path[1:], start=1):
            at = at + total / max(len(path) - 1, 1) * rng.uniform(0.6, 1.2)
            at = min(at, now - timedelta(minutes=1))
            if status == S.DELIVERED:
                by = job.sales_owner if job.sales_owner and job.sales_owner.role == Role.SALES_REP else advisor
            else:
                by = technician or advisor
            _demo_move(job, status, by=by, note=rng.choice(NOTES) if step else "", at=at, rng=rng, advisor=advisor)
        jobs += 1
    # History already seen: everything about finished jobs, and the intake and
    # assignment news of the rest (the demo opens every job at once).
    about_branch = Notification.objects.filter(
        target_type=ContentType.objects.get_for_model(RepairJob),
        target_id__in=RepairJob.objects.filter(branch=branch).values("pk"),
    )
    about_branch.filter(
        Q(target_id__in=RepairJob.objects.filter(branch=branch, status__in=FINISHED_STATUSES).values("pk"))
        | Q(kind__in=[Notification.Kind.JOB_CREATED, Notification.Kind.JOB_ASSIGNED])
    ).update(read_at=now)
    versions.branch_changed(branch.pk)
    return jobs


def _path(final: str, rng: random.Random) -> list[str]:
    path = list(PATHS[final])
    if final in (S.DELIVERED, S.READY) and rng.random() < 0.3:
        index = path.index(S.DIAGNOSING) + 1
        path[index:index] = DETOURS[S.DIAGNOSING]
    if final in (S.DELIVERED, S.READY, S.QUALITY_CHECK) and rng.random() < 0.2:
        index = path.index(S.IN_PROGRESS) + 1
        path[index:index] = DETOURS[S.IN_PROGRESS]
    return path


THREAD_SCRIPTS = [
    ("sales_owner", "customer_request", "お客様より：代車は軽自動車で大丈夫とのこと。夕方17時以降の引き取り希望です。"),
    ("technician", "note", "リアブレーキパッドが残り2mm。交換を推奨します。写真を添付します。"),
    ("sales_owner", "note", "お客様に連絡しました。交換でお願いしますとのことです。"),
    ("technician", "note", "Parts ordered, arriving tomorrow morning. I will start first thing."),
    ("service_advisor", "note", "約束時刻を明日12時に変更しました。"),
    ("sales_owner", "customer_request", "Customer asks us to check the rattle from the dashboard as well."),
]


def demo_photo(rng: random.Random, label: str) -> SimpleUploadedFile:
    """A generated stand-in for a workshop photo."""
    image = Image.new("RGB", (640, 480), (rng.randint(40, 90), rng.randint(40, 90), rng.randint(60, 120)))
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randint(0, 600), rng.randint(0, 440)
        draw.ellipse((x, y, x + rng.randint(20, 120), y + rng.randint(20, 120)), outline=(230, 230, 230), width=3)
    draw.rectangle((20, 420, 620, 470), fill=(20, 20, 20))
    draw.text((30, 435), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(f"{label}.png", buffer.getvalue(), content_type="image/png")


def seed_threads(data: dict, rng: random.Random) -> dict:
    """Conversations on the active demo jobs, posted through the service (so
    everybody on the jobs has unread notifications), then backdated."""
    if JobMessage.objects.exists():
        return {}
    posted = 0
    jobs = RepairJob.objects.exclude(status__in=[S.DELIVERED, S.CANCELLED]).select_related(
        "vehicle", "sales_owner", "technician", "service_advisor", "requested_by"
    )
    for index, job in enumerate(jobs.order_by("pk")):
        if index % 3 == 2:
            continue
        manager = User.objects.filter(branch_id=job.branch_id, role=Role.MANAGER).first()
        script = THREAD_SCRIPTS[: 2 + index % 5]
        started = job.received_at
        for step, (role, kind, body) in enumerate(script):
            author = getattr(job, role) or job.service_advisor or job.requested_by
            if author is None:
                continue
            photos = [process_photo(demo_photo(rng, f"{job.number}-{step}"))] if "写真" in body else []
            others = [person for person in (job.technician, job.sales_owner) if person and person != author]
            mentions = others[:1] if step == 2 else ([manager] if step == 1 and manager and index % 4 == 0 else [])
            message = post_message(job, by=author, body=body, kind=kind, mentions=mentions, photos=photos)
            at = min(started + timedelta(minutes=25 * (step + 1)), timezone.now())
            JobMessage.objects.filter(pk=message.pk).update(created_at=at)
            posted += 1
    # The demo prints no e-mail for its own history: the notifications stay in
    # the portal (unread) but are not mailed.
    Notification.objects.filter(send_status=Notification.SendStatus.PENDING).update(
        send_status=Notification.SendStatus.SKIPPED
    )
    return {"messages_posted": posted}


# --- Approvals, leads, the customer's status link ---

EXTRA_WORK = [
    ("リアブレーキパッド交換", "残り2mm。次回点検までもちません。", 35200),
    ("バッテリー交換", "CCA値が基準の60%。冬場の始動不良のおそれ。", 22000),
    ("フロントワイパーブレード交換", "拭きムラあり。", 4400),
    ("エアコンフィルター交換", "目詰まりと異臭あり。", 5500),
    ("Timing belt replacement", "Cracks on the belt surface; due at 100,000 km anyway.", 88000),
    ("タイヤ4本交換", "スリップサイン露出。", 96800),
]
DECISION_NOTES = ["", "電話でご了承いただきました", "費用を抑えたいとのこと", "Customer agreed by LINE", ""]


def _demo_move(
    job: RepairJob, status: str, *, by: User, note: str, at, rng: random.Random, advisor: User | None
) -> None:
    """One step of a demo job's history, through the service the portal itself would call.

    A move into awaiting approval is an approval request; the move out of it
    is the sales rep recording the customer's answer, so the demo's approvals
    are decided as fast or as slowly as its history happened to go.
    """
    if status == S.AWAITING_APPROVAL and permissions.can_request_approval(by, job):
        work, reason, estimate = rng.choice(EXTRA_WORK)
        request_approval(job, by=by, work=work, reason=reason, estimate_yen=estimate, at=at)
        return
    if job.status == S.AWAITING_APPROVAL and status == S.IN_PROGRESS:
        approval = job.approvals.filter(status__in=OPEN_APPROVAL_STATUSES).first()
        decider = (
            job.sales_owner if job.sales_owner and permissions.can_decide_approval(job.sales_owner, job) else advisor
        )
        if approval is not None and decider is not None:
            record_approval_decision(
                approval,
                by=decider,
                decision=rng.choice([ApprovalRequest.Decision.APPROVED] * 3 + [ApprovalRequest.Decision.DECLINED]),
                contact_method=rng.choice(["phone", "phone", "line", "in_person", "email"]),
                note=rng.choice(DECISION_NOTES),
                at=at,
            )
            return
    change_status(job, to=status, by=by, note=note, expected_version=None, at=at)


LEAD_SCRIPT = [
    ("costly_repair", "13年目のお車で修理費が20万円を超えそうです。買い替えのご提案を。", "new", ""),
    ("new_models", "待合室で新型ハイブリッドのカタログをご覧になっていました。", "contacted", "来週土曜に試乗のご予約"),
    ("inspection_due", "車検満了まで2か月。", "converted", "車検のご予約をいただきました"),
    ("wear_parts", "タイヤ残溝2mm、バッテリーも弱っています。", "dismissed", "今回は見送りとのこと"),
    ("other", "Customer mentioned a second car for their daughter.", "new", ""),
    ("new_models", "EVに関心あり。", "contacted", "カタログ送付済み"),
]


def seed_approvals_leads_links(data: dict, rng: random.Random) -> dict:
    """Leads in every status, an unanswered call on a pending approval, and one
    live status link for the demo sales rep (printed by `make run`)."""
    if SalesLead.objects.exists() or CustomerStatusLink.objects.exists():
        return {}
    now = timezone.now()
    leads = 0
    for branch in Branch.objects.all():
        staff = User.objects.filter(branch=branch, is_active=True)
        flaggers = list(staff.filter(role__in=[Role.TECHNICIAN, Role.SERVICE_ADVISOR]).order_by("pk"))
        manager = staff.filter(role=Role.MANAGER).first()
        active = (
            RepairJob.objects.filter(branch=branch)
            .exclude(status__in=FINISHED_STATUSES)
            .select_related("customer__sales_owner", "sales_owner", "vehicle", "technician", "service_advisor")
            .order_by("pk")
        )
        for index, (job, (reason, note, status, outcome)) in enumerate(zip(active, LEAD_SCRIPT, strict=False)):
            if not flaggers:
                break
            flagged_at = min(job.received_at + timedelta(hours=1), now - timedelta(hours=2))
            lead = flag_sales_lead(job, by=flaggers[index % len(flaggers)], reason=reason, note=note, at=flagged_at)
            leads += 1
            updater = lead.owner or manager
            if status != SalesLead.State.NEW and updater is not None:
                update_lead(lead, by=updater, status=status, outcome_note=outcome, at=flagged_at + timedelta(hours=1))
        # One pending approval had an unanswered call: "try again later".
        pending = (
            RepairJob.objects.filter(branch=branch, status=S.AWAITING_APPROVAL, approvals__status="pending")
            .select_related("sales_owner", "vehicle", "customer")
            .first()
        )
        if pending is not None and pending.sales_owner is not None:
            approval = pending.approvals.filter(status="pending").first()
            try_at = min(approval.requested_at + timedelta(minutes=20), now)
            record_approval_decision(
                approval, by=pending.sales_owner, decision="unreachable", contact_method="phone", at=try_at
            )
    link_url = ""
    sales = User.objects.filter(email="sales@example.com").first()
    if sales is not None:
        mine = RepairJob.objects.filter(branch_id=sales.branch_id, sales_owner=sales).order_by("pk")
        job = mine.filter(status=S.IN_PROGRESS).first() or mine.exclude(status__in=FINISHED_STATUSES).first()
        if job is not None:
            link_url = create_status_link(job, by=sales).public_url
    Notification.objects.filter(send_status=Notification.SendStatus.PENDING).update(
        send_status=Notification.SendStatus.SKIPPED
    )
    return {"leads_flagged": leads, "status_link_url": link_url}
