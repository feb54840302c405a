"""The customer's page shows every app's data: the feedback tests' customers and delivered jobs serve here too."""

from tests.feedback.conftest import customer, make_delivered_job  # noqa: F401 - fixtures
