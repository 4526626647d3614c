from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assemblies.views import account, home, signup

urlpatterns = [
    path("", home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", signup, name="signup"),
    path("account/", account, name="account"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("assemblies.urls")),
    path("", include("proposals.urls")),
]
