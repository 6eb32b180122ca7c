"""Settings of the sprint site.

Everything that differs between hosts and environments (the secret key, the
database, where static files and the log go) comes from the ini file that
depc writes, named by the environment variable SPRINT_SETTINGS. The secret
key and the database password are depc secrets: they are in that file only.
"""
import configparser
import os

from django.core.exceptions import ImproperlyConfigured

_path = os.environ.get("SPRINT_SETTINGS")
if not _path:
    raise ImproperlyConfigured("SPRINT_SETTINGS must name the site's ini file")
_ini = configparser.ConfigParser(interpolation=None)
if not _ini.read(_path):
    raise ImproperlyConfigured(f"cannot read the settings file {_path}")
_site = _ini["site"]
_db = _ini["database"]

SECRET_KEY = _site["secret_key"]
DEBUG = _site.getboolean("debug", fallback=False)
ALLOWED_HOSTS = _site["allowed_hosts"].split()

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "greetings",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "sprint.urls"
WSGI_APPLICATION = "sprint.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": _db["name"],
        "USER": _db["user"],
        "PASSWORD": _db["password"],
        "HOST": _db["host"],
        "PORT": _db.get("port", "5432"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Sessions in the database: `manage.py clearsessions` (a cron job) deletes the expired ones.
SESSION_ENGINE = "django.contrib.sessions.backends.db"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = _site["static_root"]

# The app's own log, rotated by logrotate (copytruncate: the file stays open).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"file": {"class": "logging.FileHandler", "filename": _site["log_file"], "formatter": "plain"}},
    "root": {"handlers": ["file"], "level": "INFO"},
    "loggers": {"django": {"handlers": ["file"], "level": "INFO", "propagate": False}},
}
