from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("jobs", "0004_throughput_and_reasons"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="phase",
            field=models.CharField(blank=True, max_length=64),
        ),
    ]
