"""Pages of the search app."""

from django.urls import URLPattern, path

from rapport.search import views

urlpatterns: list[URLPattern] = [
    path("search/", views.search_page, name="search"),
    path("search/suggest/", views.search_suggest, name="search_suggest"),
]
