"""Pages of the sales area: opportunities."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
