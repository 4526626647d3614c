from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssembliesConfig(AppConfig):
    name = "assemblies"
    verbose_name = _("Assemblies")

    def ready(self):
        # An account deactivated (by staff, in the admin) or logged out ends the access of
        # its open sockets too; these happen outside the services, so they are hooked here.
        from django.contrib.auth import get_user_model
        from django.contrib.auth.signals import user_logged_out
        from django.db.models.signals import post_save

        from assemblies import accounts

        def deactivated(sender, instance, created, **kwargs):
            if not created and not instance.is_active:
                accounts.announce_access_change(user=instance)

        def logged_out(sender, request, user, **kwargs):
            if user is not None:
                accounts.announce_access_change(user=user)

        post_save.connect(deactivated, sender=get_user_model(), weak=False)
        user_logged_out.connect(logged_out, weak=False)
