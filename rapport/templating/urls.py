"""Pages of the templating app."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
