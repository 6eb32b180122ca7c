from django.db import models


class Greeting(models.Model):
    """What the front page says; the first one is written by a data migration."""

    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.text
