from django.db import migrations, models


def fill_search_name(apps, schema_editor):
    """Existing places get the normalised name their searches compare against."""
    from gongzhi.core.text import normalise

    Place = apps.get_model("places", "Place")
    batch = []
    for place in Place.objects.only("pk", "name").iterator(chunk_size=2000):
        place.search_name = normalise(place.name)[:100]
        batch.append(place)
        if len(batch) >= 2000:
            Place.objects.bulk_update(batch, ["search_name"])
            batch = []
    if batch:
        Place.objects.bulk_update(batch, ["search_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("places", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="place",
            name="search_name",
            field=models.CharField(
                blank=True, editable=False, max_length=100, verbose_name="检索名称"
            ),
        ),
        migrations.RunPython(fill_search_name, migrations.RunPython.noop),
    ]
