from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from assemblies.views import LoginView, account, api_token_create, api_token_revoke, signup
from core.auth_limits import LimitedAdminAuthenticationForm
from core.views import favicon, health, manifest, offline, service_worker
from proposals.api import well_known_history_key
from sittings.views import home

# The admin's login is under the same guessing limits as the site's.
admin.site.login_form = LimitedAdminAuthenticationForm

urlpatterns = [
    path("", home, name="home"),
    path("healthz", health, name="health"),
    path("favicon.ico", favicon, name="favicon"),
    path("manifest.webmanifest", manifest, name="manifest"),
    path("sw.js", service_worker, name="service_worker"),
    path("offline/", offline, name="offline"),
    path(".well-known/multitude-history-key", well_known_history_key, name="history-key"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signup/", signup, name="signup"),
    path("account/", account, name="account"),
    path("account/api-token/", api_token_create, name="api_token_create"),
    path("account/api-token/revoke/", api_token_revoke, name="api_token_revoke"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(("multitude.api_urls", "api"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("assemblies.urls")),
    path("", include("proposals.urls")),
    path("", include("sittings.urls")),
    path("", include("notifications.urls")),
]
