from django.db import migrations, models


def fill(apps, schema_editor):
    """Every artwork painted before the column: its styles from its parameters (as JobOptions.styles reads them)."""
    Artwork = apps.get_model("generator", "Artwork")
    batch = []
    for artwork in Artwork.objects.only("pk", "params").iterator(chunk_size=1000):
        params = artwork.params or {}
        styles = [str(part) for part, _weight in params.get("blend") or ()] or (
            [params["style_preset"]] if params.get("style_preset") else []
        )
        if styles:
            artwork.styles = f" {' '.join(styles)} "
            batch.append(artwork)
        if len(batch) >= 1000:
            Artwork.objects.bulk_update(batch, ["styles"])
            batch = []
    Artwork.objects.bulk_update(batch, ["styles"])


class Migration(migrations.Migration):
    dependencies = [
        ("generator", "0007_nudity_check_kind"),
    ]

    operations = [
        migrations.AddField(
            model_name="artwork",
            name="styles",
            field=models.CharField(blank=True, default="", editable=False, max_length=400, verbose_name="styles"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
