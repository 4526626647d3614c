"""Account writes: sign up, and let a guest who joined by code keep their identity."""

from django.contrib.auth.models import User
from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, DomainError


@transaction.atomic
def sign_up(*, email: str, password: str) -> User:
    email = (email or "").strip().lower()
    if not email or not password:
        raise DomainError("credentials_required", _("Give an email and a password."))
    if User.objects.filter(username__iexact=email).exists():
        raise Conflict("email_taken", _("An account with this email exists: log in instead."))
    return User.objects.create_user(username=email, email=email, password=password)


def is_guest(user: User) -> bool:
    """Joined with only a display name: no password to log in with elsewhere."""
    return user.is_authenticated and not user.has_usable_password()


@transaction.atomic
def keep_identity(*, user: User, email: str, password: str) -> User:
    """A guest adds an email and password; memberships and positions stay theirs."""
    if not is_guest(user):
        raise Conflict("not_guest", _("This account already has a password."))
    email = (email or "").strip().lower()
    if User.objects.filter(username__iexact=email).exclude(pk=user.pk).exists():
        raise Conflict("email_taken", _("An account with this email exists: log in instead."))
    user.username = email
    user.email = email
    user.set_password(password)
    user.save(update_fields=["username", "email", "password"])
    return user
