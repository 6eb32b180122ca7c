"""A data migration: the row the front page renders."""
from django.db import migrations


def write_greeting(apps, schema_editor):
    Greeting = apps.get_model("greetings", "Greeting")
    Greeting.objects.create(text="Hello, world! (written by migration 0002)")


def remove_greeting(apps, schema_editor):
    apps.get_model("greetings", "Greeting").objects.filter(text__endswith="(written by migration 0002)").delete()


class Migration(migrations.Migration):
    dependencies = [("greetings", "0001_initial")]
    operations = [migrations.RunPython(write_greeting, remove_greeting)]
