from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MailConfig(AppConfig):
    name = "rapport.mail"
    label = "mail"
    verbose_name = _("Mail")

    def ready(self) -> None:
        from rapport.core.scheduler import register_periodic
        from rapport.mail.tasks import deliver_mail

        # Retries and messages whose wake-up was lost (a worker restart) go out within a minute.
        register_periodic("deliver_mail", deliver_mail, every_seconds=60)
        # Mail in the RAPPORT_IMAP_URL mailbox is logged within a minute (no job at all without one).
        from rapport.mail.tasks import register_polling

        register_polling()

        from rapport.core.registry import register_record_type

        register_record_type("email", _("Logged email"))

        from rapport.core.registry import register_linkable, register_nav_item, register_user_link
        from rapport.mail.selectors import logging_address, may_log, pending_email

        register_nav_item("email_list", _("Email"), record_type="email", order=58,
                          badge=pending_email, badge_label=_("pending email"))
        register_linkable("email", "mail.EmailMessage", "email_detail", _("Email"))
        # The settings page and GET /api/v1/me show the user's logging address (core imports no business app).
        register_user_link("logging_address",
                           lambda request, user: logging_address(user) if may_log(user) else None)
