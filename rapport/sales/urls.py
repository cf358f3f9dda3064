"""Page routes of the sales area: each part's module lists its own."""

from rapport.sales.views import leads, opportunities, orders, workflows

urlpatterns = [*leads.urlpatterns, *opportunities.urlpatterns, *orders.urlpatterns, *workflows.urlpatterns]
