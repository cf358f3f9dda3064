from django.contrib import admin

from rapport.core.admin import ReadOnlyAdminMixin
from rapport.mail.models import OutboxMessage

# The outbox is looked at here and in Settings → Outbox; a message is retried there (the service keeps
# its Message-ID and wakes the worker), never edited.


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("subject", "kind", "status", "attempts", "next_attempt_at", "sent_at", "created_at")
    list_filter = ("status", "kind")
    search_fields = ("subject", "message_id")
    ordering = ("-created_at", "-id")
    show_full_result_count = False
