from django.urls import path

from assemblies import views

app_name = "assemblies"
urlpatterns = [
    path("join/", views.join_by_code, name="join"),
    path("a/<slug:slug>/", views.assembly_detail, name="detail"),
    path("a/<slug:slug>/join/", views.join_link, name="join_link"),
    path("a/<slug:slug>/leave/", views.leave, name="leave"),
]
