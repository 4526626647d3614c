from django.urls import path

from assemblies import views

app_name = "assemblies"
urlpatterns = [
    path("a/<slug:slug>/", views.assembly_detail, name="detail"),
]
