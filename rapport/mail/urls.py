"""Pages of the mail app: the outbox (administrators), and logged email."""

from rapport.mail import views

urlpatterns = [*views.urlpatterns]
