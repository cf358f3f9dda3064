from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExpensesConfig(AppConfig):
    name = "rapport.expenses"
    label = "expenses"
    verbose_name = _("Expenses")

    def ready(self) -> None:
        from rapport.core.registry import (
            register_linkable,
            register_nav_item,
            register_record_panel,
            register_record_type,
        )

        register_record_type("expense", _("Expenses"))
        register_nav_item("expense_list", _("Expenses"), record_type="expense", order=75)
        register_linkable("expense", "expenses.Expense", "expense_detail", _("Expense"))
        for record_type in ("project", "account", "opportunity"):
            register_record_panel(record_type, "record_expenses", _("Expenses"), order=60)
