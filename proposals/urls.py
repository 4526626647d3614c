from django.urls import path

from proposals import views

app_name = "proposals"
urlpatterns = [
    path("a/<slug:slug>/p/<int:proposal_id>/", views.proposal_detail, name="detail"),
]
