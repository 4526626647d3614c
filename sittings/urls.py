from django.urls import path

from sittings import console, views

app_name = "sittings"

A = "a/<slug:slug>/"

urlpatterns = [
    path(A, views.assembly_detail, name="assembly"),
    path(A + "console/", console.console, name="console"),
    path(A + "console/<slug:action>/", console.console_action, name="console_action"),
    path(A + "facilitation/<slug:action>/", views.facilitation, name="facilitation"),
    path(A + "projector/", console.projector, name="projector"),
    path(A + "log/", console.facilitation_log, name="log"),
    path(A + "sittings/<int:meeting_id>/minutes/", console.minutes_page, name="minutes"),
    path(A + "sittings/<int:meeting_id>/minutes.md", console.minutes_download, name="minutes_md"),
]
