import logging
import socket

from django.shortcuts import render

from .models import Greeting

log = logging.getLogger(__name__)


def index(request):
    greeting = Greeting.objects.order_by("id").first()
    log.info("front page served by %s", socket.gethostname())
    return render(request, "greetings/index.html", {"greeting": greeting, "server": socket.gethostname()})
