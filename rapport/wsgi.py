"""WSGI entry point for gunicorn: `rapport serve` uses it."""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rapport.settings")
application = get_wsgi_application()

# A page that builds a thousand model instances (a month's calendar) would otherwise set off full
# collections that walk every object of the process, Django's and the code's included: about a third
# of that page's time. Objects alive after start-up are kept out of collection for good (they live as
# long as the process), and the youngest generation is collected less often.
gc.freeze()
gc.set_threshold(50_000, 20, 20)
