
import django.db.models.deletion
import generator.models
from django.conf import settings
from django.db import migrations, models


def _earlier_versions_are_records(apps, schema_editor):
    """Rows written before the registry only recorded what painted an artwork: ready, imported, inactive.

    `manage.py models import` attaches the weights file to the row whose sha256 matches.
    """
    ModelVersion = apps.get_model("generator", "ModelVersion")
    for version in ModelVersion.objects.filter(label=""):
        version.label = f"{version.kind} {version.sha256[:12]}"
        version.status = "ready"
        version.source = "package"
        version.save(update_fields=["label", "status", "source"])


class Migration(migrations.Migration):

    dependencies = [
        ('generator', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="modelversion", name="unique_model_version"),
        migrations.RenameField(model_name="modelversion", old_name="name", new_name="kind"),
        migrations.RenameField(model_name="artwork", old_name="models", new_name="model_versions"),
        migrations.CreateModel(
            name='Preset',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('slug', models.SlugField(max_length=64, unique=True, verbose_name='short name')),
                ('name', models.CharField(max_length=120, verbose_name='name')),
                ('kind', models.CharField(choices=[('network', '26-style network'), ('painting', 'Painting'), ('single_style', 'Single-style network')], default='painting', max_length=16, verbose_name='kind')),
                ('network_index', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='network style number')),
                ('painting', models.FileField(blank=True, max_length=255, upload_to=generator.models.preset_upload_to, verbose_name='painting')),
                ('thumbnail', models.FileField(blank=True, max_length=255, upload_to=generator.models.preset_upload_to, verbose_name='thumbnail')),
                ('credit', models.CharField(blank=True, max_length=300, verbose_name='credit')),
                ('tags', models.JSONField(blank=True, default=list, verbose_name='tags')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('position', models.PositiveIntegerField(default=0, help_text='Lower comes first.', verbose_name='position')),
                ('hidden', models.BooleanField(default=False, verbose_name='hidden')),
                ('shipped', models.BooleanField(default=False, editable=False, verbose_name='shipped with the studio')),
                ('created', models.DateTimeField(auto_now_add=True, verbose_name='created')),
            ],
            options={
                'verbose_name': 'preset',
                'verbose_name_plural': 'presets',
                'ordering': ['position', 'name'],
            },
        ),
        migrations.AlterModelOptions(
            name='modelversion',
            options={'ordering': ['kind', 'slot', '-created'], 'verbose_name': 'model version', 'verbose_name_plural': 'model versions'},
        ),
        migrations.AddField(
            model_name='job',
            name='model_versions',
            field=models.ManyToManyField(blank=True, related_name='jobs', to='generator.modelversion', verbose_name='model versions'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='activated_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last activated'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='credit',
            field=models.CharField(blank=True, max_length=300, verbose_name='credit'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='is_active',
            field=models.BooleanField(default=False, verbose_name='active'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='label',
            field=models.CharField(default='', max_length=120, verbose_name='label'),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='modelversion',
            name='licence',
            field=models.CharField(blank=True, max_length=120, verbose_name='licence'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='metrics',
            field=models.JSONField(blank=True, default=dict, verbose_name='metrics'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='notes',
            field=models.TextField(blank=True, verbose_name='notes'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='reason',
            field=models.TextField(blank=True, help_text='Why validation rejected it.', verbose_name='reason'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='sample',
            field=models.FileField(blank=True, max_length=255, upload_to=generator.models.model_sample_upload_to, verbose_name='sample picture'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='size',
            field=models.PositiveBigIntegerField(default=0, verbose_name='size in bytes'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='slot',
            field=models.SlugField(blank=True, help_text="Single-style networks: the style's short name. Other kinds: blank.", max_length=64, verbose_name='slot'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='source',
            field=models.CharField(choices=[('package', 'Package import'), ('upload', 'Upload'), ('training', 'Training run')], default='upload', max_length=16, verbose_name='source'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='status',
            field=models.CharField(choices=[('validating', 'Validating'), ('ready', 'Ready'), ('rejected', 'Rejected')], default='validating', max_length=16, verbose_name='status'),
        ),
        migrations.AddField(
            model_name='modelversion',
            name='weights',
            field=models.FileField(blank=True, max_length=255, upload_to=generator.models.weights_upload_to, verbose_name='weights file'),
        ),
        migrations.AlterField(
            model_name='job',
            name='queue',
            field=models.CharField(choices=[('gpu', 'GPU'), ('cpu', 'CPU')], default='cpu', max_length=16, verbose_name='queue'),
        ),
        migrations.AlterField(
            model_name='modelversion',
            name='kind',
            field=models.CharField(choices=[('magenta_predictor', 'Arbitrary-style predictor'), ('magenta_transformer', 'Arbitrary-style transformer'), ('multistyle26', '26-style network'), ('transformer_net', 'Single-style network'), ('efficientnet_lite0', 'Perceptual network')], max_length=32, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='modelversion',
            name='sha256',
            field=models.CharField(blank=True, max_length=64, verbose_name='SHA-256'),
        ),
        migrations.AddIndex(
            model_name='modelversion',
            index=models.Index(fields=['kind', 'slot', 'is_active'], name='model_version_lookup'),
        ),
        migrations.AddConstraint(
            model_name='job',
            constraint=models.CheckConstraint(condition=models.Q(('queue__in', ['gpu', 'cpu'])), name='job_queue_valid'),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.UniqueConstraint(condition=models.Q(('is_active', True)), fields=('kind', 'slot'), name='one_active_version_per_kind'),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.CheckConstraint(condition=models.Q(('is_active', False), ('status', 'ready'), _connector='OR'), name='only_ready_versions_are_active'),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['magenta_predictor', 'magenta_transformer', 'multistyle26', 'transformer_net', 'efficientnet_lite0'])), name='model_version_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.CheckConstraint(condition=models.Q(('status__in', ['validating', 'ready', 'rejected'])), name='model_version_status_valid'),
        ),
        migrations.AddConstraint(
            model_name='modelversion',
            constraint=models.CheckConstraint(condition=models.Q(('source__in', ['package', 'upload', 'training'])), name='model_version_source_valid'),
        ),
        migrations.AddConstraint(
            model_name='preset',
            constraint=models.CheckConstraint(condition=models.Q(('kind__in', ['network', 'painting', 'single_style'])), name='preset_kind_valid'),
        ),
        migrations.AddConstraint(
            model_name='preset',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('kind', 'network'), _negated=True), models.Q(('network_index__isnull', False), ('network_index__lt', 26)), _connector='OR'), name='network_preset_has_index'),
        ),
        migrations.RunPython(_earlier_versions_are_records, migrations.RunPython.noop),
    ]
