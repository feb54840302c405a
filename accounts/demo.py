"""Demo staff: every role in both branches, with the four documented logins
(customers/demo.py gives each customer a sales owner among them)."""

from __future__ import annotations

from dealership.models import Branch

from .models import Department, Role, User

DEMO_PASSWORD = "dealership-demo"  # noqa: S105 - the documented demo password

# (email, name, role, department, branch code, language)
STAFF = [
    ("sales@example.com", "営業 花子", Role.SALES_REP, Department.SALES, "tokyo-east", "ja"),
    ("technician@example.com", "整備 太郎", Role.TECHNICIAN, Department.SERVICE, "tokyo-east", "ja"),
    ("advisor@example.com", "受付 次郎", Role.SERVICE_ADVISOR, Department.SERVICE, "tokyo-east", "ja"),
    ("manager@example.com", "店長 一郎", Role.MANAGER, Department.MANAGEMENT, "tokyo-east", "ja"),
    ("sales2@example.com", "Emily Carter", Role.SALES_REP, Department.SALES, "tokyo-east", "en"),
    ("technician2@example.com", "整備 健", Role.TECHNICIAN, Department.SERVICE, "tokyo-east", "ja"),
    ("technician3@example.com", "整備 翼", Role.TECHNICIAN, Department.SERVICE, "tokyo-east", "ja"),
    ("yokohama.sales@example.com", "横浜 営業", Role.SALES_REP, Department.SALES, "yokohama", "ja"),
    ("yokohama.technician@example.com", "横浜 整備", Role.TECHNICIAN, Department.SERVICE, "yokohama", "ja"),
    ("yokohama.technician2@example.com", "Daniel Brooks", Role.TECHNICIAN, Department.SERVICE, "yokohama", "en"),
    ("yokohama.advisor@example.com", "横浜 受付", Role.SERVICE_ADVISOR, Department.SERVICE, "yokohama", "ja"),
    ("yokohama.manager@example.com", "横浜 店長", Role.MANAGER, Department.MANAGEMENT, "yokohama", "ja"),
    ("gm@example.com", "統括 部長", Role.MANAGER, Department.MANAGEMENT, "tokyo-east", "ja"),
]


def seed(core: dict) -> dict[str, list[User]]:
    branches = {branch.code: branch for branch in Branch.objects.all()}
    staff: list[User] = []
    for email, name, role, department, branch_code, language in STAFF:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(
                email,
                DEMO_PASSWORD,
                display_name=name,
                role=role,
                department=department,
                branch=branches[branch_code],
                language=language,
                all_branches=email == "gm@example.com",
            )
        staff.append(user)
    return {"staff": staff}
