from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "rapport.activities"
    label = "activities"
    verbose_name = _("Activities and notes")

    def ready(self) -> None:
        from rapport.core.registry import register_linkable, register_nav_item, register_record_type

        register_record_type("activity", _("Activities"))
        register_record_type("note", _("Notes"))
        register_nav_item("my_home", _("My Home"), record_type=None, order=10)
        register_linkable("activity", "activities.Activity", "activity_detail", _("Activity"))
        register_nav_item("calendar", _("Calendar"), record_type="activity", order=15)

        from rapport.activities.feed_views import calendar_feed_url
        from rapport.core.registry import register_user_link

        register_user_link("calendar_feed", calendar_feed_url)  # GET /api/v1/me: calendar_feed_url
