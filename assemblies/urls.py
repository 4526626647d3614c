from django.urls import path

from assemblies import views

app_name = "assemblies"
urlpatterns = [
    path("", views.home, name="home"),
]
