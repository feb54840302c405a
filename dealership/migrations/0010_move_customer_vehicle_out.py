"""Customer and Vehicle leave the core's state for customers/ (issue 18).

State only: the tables stay (customers.Customer and customers.Vehicle use them
through `db_table`). It runs after the apps whose foreign keys pointed at the
core's models have re-pointed them, so no state ever holds a key to a model
that is gone.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("dealership", "0005_drop_branch_marker"),
        ("customers", "0001_initial"),
        ("repairs", "0010_customer_moves_to_customers"),
        ("feedback", "0005_customer_moves_to_customers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="Vehicle"),
                migrations.DeleteModel(name="Customer"),
            ],
            database_operations=[],
        ),
    ]
