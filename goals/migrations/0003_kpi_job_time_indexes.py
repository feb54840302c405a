"""Indexes for the KPI figures' time filters on the repairs tables.

Every job figure filters one branch's jobs on one timestamp (delivered_at,
ready_at, promised_at) over a period; without these indexes each figure scans
every job of the dealership (100,000 rows in `make bench`). They serve only
goals' queries, so goals creates them; RunSQL keeps them out of repairs'
model state (no migration conflict with that app). If repairs ever declares
them in RepairJob.Meta.indexes, drop this migration's statements with
SeparateDatabaseAndState. The syntax is the same on PostgreSQL and SQLite.
"""

from django.db import migrations

INDEXES = {
    "goals_kpi_job_delivered_idx": "repairs_repairjob (branch_id, delivered_at)",
    "goals_kpi_job_ready_idx": "repairs_repairjob (branch_id, ready_at)",
    "goals_kpi_job_promised_idx": "repairs_repairjob (branch_id, promised_at)",
    "goals_kpi_invitation_created_idx": "feedback_surveyinvitation (created_at)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("goals", "0002_goals_kpis"),
        ("repairs", "0001_initial"),
        ("feedback", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql=f"CREATE INDEX IF NOT EXISTS {name} ON {target}",
            reverse_sql=f"DROP INDEX IF EXISTS {name}",
        )
        for name, target in INDEXES.items()
    ]
