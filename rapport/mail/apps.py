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

        from rapport.core.registry import register_record_type

        register_record_type("email", _("Logged email"))
