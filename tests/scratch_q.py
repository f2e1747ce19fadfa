from django.db import connection
from django.test.utils import CaptureQueriesContext
from tests.admin_helpers import make_notification

pytest_plugins = ("tests.admin_support",)


def test_q(operator_client, feishu_channel):
    n = make_notification(feishu_channel)
    for url in [
        "/admin/notifications/notification/",
        f"/admin/notifications/notification/{n.pk}/change/",
        "/admin/notifications/channel/",
        f"/admin/notifications/channel/{feishu_channel.pk}/change/",
        "/admin/notifications/batch/",
    ]:
        operator_client.get(url)
        with CaptureQueriesContext(connection) as c:
            operator_client.get(url)
        print(url, len(c.captured_queries))
        for q in c.captured_queries:
            print("   ", q["sql"][:250])
