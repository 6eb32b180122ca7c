from django.apps import AppConfig


class GreetingsConfig(AppConfig):
    name = "greetings"
    default_auto_field = "django.db.models.BigAutoField"
