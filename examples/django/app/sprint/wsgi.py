"""The WSGI application gunicorn serves: `gunicorn sprint.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sprint.settings")
application = get_wsgi_application()
