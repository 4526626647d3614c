from django.urls import path

from assemblies import views

app_name = "assemblies"

A = "a/<slug:slug>/"

urlpatterns = [
    path("join/", views.join_by_code, name="join"),
    path(A + "join/", views.join_link, name="join_link"),
    path(A + "leave/", views.leave, name="leave"),
]
