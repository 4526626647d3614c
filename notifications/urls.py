from django.urls import path

from notifications import views

app_name = "notifications"

A = "a/<slug:slug>/"

urlpatterns = [
    path(A + "notifications/", views.preferences, name="preferences"),
    path(A + "notifications/calendar-key/", views.new_calendar_key, name="new_calendar_key"),
    path(A + "calendar.ics", views.calendar, name="calendar"),
    path(A + "calendar/<str:key>.ics", views.member_calendar, name="member_calendar"),
    path(A + "sittings/<int:meeting_id>/sitting.ics", views.sitting_ics, name="sitting_ics"),
    path(A + "p/<int:proposal_id>/respond/<slug:kind>/", views.respond, name="respond"),
    path(A + "webhooks/", views.webhooks, name="webhooks"),
    path(A + "webhooks/<int:webhook_id>/remove/", views.webhook_remove, name="webhook_remove"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
