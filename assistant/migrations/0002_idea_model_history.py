from django.db import migrations


def history_from_ideas(apps, schema_editor):
    """Each answered idea in its models' history (generator.ModelUse): the writer wrote for it, the others
    read it. How long each took was never kept."""
    Idea = apps.get_model("assistant", "Idea")
    ModelUse = apps.get_model("generator", "ModelUse")
    uses = []
    answered = Idea.objects.filter(status__in=["done", "failed"]).prefetch_related("model_versions")
    for idea in answered.iterator(chunk_size=500):
        outcome = "succeeded" if idea.status == "done" else "failed"
        for version in idea.model_versions.all():
            purpose = "writing" if version.kind == "text_generator" else "reading"
            uses.append(ModelUse(version_id=version.pk, purpose=purpose, outcome=outcome, started=idea.created))
    ModelUse.objects.bulk_create(uses, batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("assistant", "0001_initial"),
        ("generator", "0011_model_use"),
    ]

    operations = [migrations.RunPython(history_from_ideas, migrations.RunPython.noop)]
