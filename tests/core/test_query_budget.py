"""Query budget of send() (issue 2 acceptance), asserted with assertNumQueries."""

import pytest
from django.contrib.contenttypes.models import ContentType

from pymess.backend.sms import send
from tests.testapp.models import Customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    objs = [Customer.objects.create(name=f"c{i}") for i in range(25)]
    ContentType.objects.get_for_model(Customer)  # the content-type cache is process-wide
    return objs


def test_batch_mode_send_is_one_insert(settings, django_assert_num_queries):
    settings.PYMESS_SMS_BATCH_SENDING = True
    with django_assert_num_queries(1) as captured:
        send("+420777123456", "Queued")
    assert captured.captured_queries[0]["sql"].startswith("INSERT")


def test_batch_mode_related_objects_are_one_bulk_insert(
    settings, customers, django_assert_num_queries
):
    settings.PYMESS_SMS_BATCH_SENDING = True
    with django_assert_num_queries(2) as captured:
        send("+420777123456", "Queued", related_objects=customers)
    sql = [q["sql"] for q in captured.captured_queries]
    assert all(s.startswith("INSERT") for s in sql)
    assert "pymess_outputsmsrelatedobject" in sql[1]


def test_dummy_send_at_once_is_at_most_three_queries(
    django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    with django_assert_max_num_queries(3), django_capture_on_commit_callbacks(execute=True):
        message = send("+420777123456", "Now")
    assert message.state == "DEBUG"
