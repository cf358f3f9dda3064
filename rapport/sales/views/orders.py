"""Pages of the sales area: orders."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
