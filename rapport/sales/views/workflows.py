"""Pages of the sales area: workflows."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
