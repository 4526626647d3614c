from django.urls import path

from sittings import console, hall_views, views

app_name = "sittings"

A = "a/<slug:slug>/"

urlpatterns = [
    path(A, views.assembly_detail, name="assembly"),
    path(A + "console/", console.console, name="console"),
    path(A + "console/<slug:action>/", console.console_action, name="console_action"),
    path(A + "facilitation/<slug:action>/", views.facilitation, name="facilitation"),
    path(A + "check-in/", hall_views.check_in_page, name="check_in"),
    path(A + "check-in/here/", hall_views.check_in, name="check_in_post"),
    path(A + "hall/", hall_views.hall_page, name="hall"),
    path(A + "hall/<slug:action>/", hall_views.hall_action, name="hall_action"),
    path(A + "projector/", console.projector, name="projector"),
    path(A + "log/", console.facilitation_log, name="log"),
    path(A + "sittings/<int:meeting_id>/minutes/", console.minutes_page, name="minutes"),
    path(A + "sittings/<int:meeting_id>/minutes.md", console.minutes_download, name="minutes_md"),
]
