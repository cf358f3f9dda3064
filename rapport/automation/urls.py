"""Page routes of the automation app: each part's module lists its own."""

from rapport.automation.views import follow_ups, overrides, setup

urlpatterns = [*setup.urlpatterns, *follow_ups.urlpatterns, *overrides.urlpatterns]
