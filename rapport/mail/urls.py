"""Pages of the mail app: the outbox, for administrators."""

from rapport.mail import views

urlpatterns = [*views.urlpatterns]
