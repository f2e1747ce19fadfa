"""Count rate limits in sliding slices instead of fixed windows."""

import math

from django.db import migrations, models

# notifications.ratelimit.SLICES when this migration was written.
SLICES = 60


def fixed_windows_to_slices(apps, schema_editor):
    # A fixed window's sends may have come at any moment of it: count them in
    # its last slice, so that they stay counted until every one of them has
    # left the sliding window (the safe side).
    RateWindow = apps.get_model("notifications", "RateWindow")
    for row in RateWindow.objects.all():
        row.window_start += row.seconds * (SLICES - 1) / SLICES
        row.save(update_fields=["window_start"])


def slices_to_fixed_windows(apps, schema_editor):
    # Rows are merged in place, not recreated: PostgreSQL refuses the ALTER
    # TABLE that follows while inserts still have foreign key checks pending.
    RateWindow = apps.get_model("notifications", "RateWindow")
    kept = {}
    for row in RateWindow.objects.order_by("pk"):
        start = math.floor(row.window_start / row.seconds) * row.seconds
        window = kept.get((row.channel_id, row.seconds, start))
        if window is None:
            row.window_start = start
            kept[row.channel_id, row.seconds, start] = row
        else:
            window.count += row.count
            row.delete()
    for row in kept.values():
        row.save(update_fields=["window_start", "count"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0003_expiry_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ratewindow",
            name="window_start",
            field=models.FloatField(),
        ),
        migrations.RunPython(fixed_windows_to_slices, slices_to_fixed_windows),
    ]
