"""Pages of the projects app."""

from django.urls import URLPattern, path

from rapport.projects import views

urlpatterns: list[URLPattern] = [
    path("projects/", views.project_list, name="project_list"),
    path("projects/new/", views.project_form, name="project_create"),
    path("projects/about/<str:ref>/", views.record_projects, name="record_projects"),
    path("projects/milestones/<str:public_id>/edit/", views.milestone_edit, name="project_milestone_edit"),
    path("projects/milestones/<str:public_id>/delete/", views.milestone_delete, name="project_milestone_delete"),
    path("projects/milestones/<str:public_id>/move/", views.milestone_move, name="project_milestone_move"),
    path("projects/tasks/<str:public_id>/status/", views.task_status, name="project_task_status"),
    path("projects/tasks/<str:public_id>/milestone/", views.task_milestone, name="project_task_milestone"),
    path("projects/<str:public_id>/", views.project_detail, name="project_detail"),
    path("projects/<str:public_id>/edit/", views.project_form, name="project_edit"),
    path("projects/<str:public_id>/delete/", views.project_delete, name="project_delete"),
    path("projects/<str:public_id>/restore/", views.project_restore, name="project_restore"),
    path("projects/<str:public_id>/milestones/", views.milestone_create, name="project_milestone_create"),
    path("projects/<str:public_id>/tasks/", views.task_create, name="project_task_create"),
]
