"""The start page (pages for every role come with the next issue)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from chengzhen.programmes.models import Programme


def start(request: HttpRequest) -> HttpResponse:
    return render(request, "start.html", {"programmes": Programme.objects.order_by("code")})
