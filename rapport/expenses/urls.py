"""Pages of the expenses app."""

from django.urls import URLPattern, path

from rapport.expenses import views

urlpatterns: list[URLPattern] = [
    path("expenses/", views.expense_list, name="expense_list"),
    path("expenses/new/", views.expense_form, name="expense_create"),
    path("expenses/approvals/", views.expense_approvals, name="expense_approvals"),
    path("expenses/totals/", views.expense_totals, name="expense_totals"),
    path("expenses/export/", views.expense_export, name="expense_export"),
    path("expenses/about/<str:ref>/", views.record_expenses, name="record_expenses"),
    path("expenses/<str:public_id>/", views.expense_detail, name="expense_detail"),
    path("expenses/<str:public_id>/edit/", views.expense_form, name="expense_edit"),
    path("expenses/<str:public_id>/delete/", views.expense_delete, name="expense_delete"),
    path("expenses/<str:public_id>/restore/", views.expense_restore, name="expense_restore"),
    path("expenses/<str:public_id>/submit/", views.expense_submit, name="expense_submit"),
    path("expenses/<str:public_id>/approve/", views.expense_approve, name="expense_approve"),
    path("expenses/<str:public_id>/reject/", views.expense_reject, name="expense_reject"),
    path("expenses/<str:public_id>/reimburse/", views.expense_reimburse, name="expense_reimburse"),
]
