"""Create the Operators and Viewers groups with their permissions.

Operators send notifications and act on them (cancel, retry, resend) and may
send test messages through channels; they do not edit channels or templates.
Viewers only look. The permissions are created here because post_migrate,
which normally creates them, has not run yet on a fresh database.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

VIEW = [
    "view_notification",
    "view_deliveryattempt",
    "view_statuschange",
    "view_batch",
    "view_channel",
    "view_template",
    "view_templatevariant",
]
GROUPS = {
    "Operators": [*VIEW, "add_notification", "change_notification", "test_channel"],
    "Viewers": VIEW,
}
# Not declared in Channel.Meta; kept here so the model needs no migration.
TEST_CHANNEL = ("test_channel", "Can send a test message through a channel")


def create_groups(apps, schema_editor):
    """Create both groups; safe to run again (tests call it after a flush)."""
    app_config = apps.get_app_config("notifications")
    # create_permissions skips an app without a models module, which every
    # app of the historical registry lacks.
    app_config.models_module = getattr(app_config, "models_module", None) or True
    create_permissions(app_config, apps=apps, verbosity=0)

    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    channel_type, _ = ContentType.objects.get_or_create(
        app_label="notifications", model="channel"
    )
    Permission.objects.get_or_create(
        content_type=channel_type,
        codename=TEST_CHANNEL[0],
        defaults={"name": TEST_CHANNEL[1]},
    )
    for name, codenames in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(
                content_type__app_label="notifications", codename__in=codenames
            )
        )


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
