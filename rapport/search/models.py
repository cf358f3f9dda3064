"""Models of the search app."""

from django.db import models  # noqa: F401
