"""Thin HTML views: parse, authorise through `access`, call one service, render or redirect."""

from django.contrib import messages
from django.contrib.auth import login, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from assemblies import accounts, join_guard, selectors, services
from assemblies.access import get_assembly_for, get_assembly_for_join_link, membership_for
from assemblies.forms import DisplayNameForm, JoinByCodeForm, SignupForm
from core import auth_limits
from core.errors import DomainError, TooManyRequests
from core.http import domain_errors_as_pages, form_error


def _login_guest_if_new(request, member) -> None:
    if not request.user.is_authenticated:
        login(request, member.user, backend="django.contrib.auth.backends.ModelBackend")


def _after_join(request, member):
    if member.status == "pending":
        messages.info(request, _("Welcome! A facilitator will admit you shortly."))
    else:
        messages.success(request, _("Welcome to %(name)s.") % {"name": member.assembly.name})
    return redirect(member.assembly.get_absolute_url())


@require_http_methods(["GET", "POST"])
def join_by_code(request):
    """Type the code shown at the sitting and a display name: no account needed."""
    form = JoinByCodeForm(request.POST or None, initial={"code": request.GET.get("code", "")})
    if request.method == "POST" and form.is_valid():
        try:
            member = services.join(
                code=form.cleaned_data["code"],
                display_name=form.cleaned_data["display_name"],
                user=request.user,
            )
        except DomainError as error:
            if error.code == "invalid_code":
                # Counted per address (the code names no assembly); the right code is never
                # held back, however many wrong ones came first.
                try:
                    join_guard.wrong_code(request, "any", None)
                except TooManyRequests as refusal:
                    error = refusal
            form_error(
                form,
                error,
                {"invalid_code": "code", "too_many_attempts": "code"},
                default="display_name",
            )
            if isinstance(error, TooManyRequests):
                return render(request, "assemblies/join.html", {"form": form}, status=429)
        else:
            _login_guest_if_new(request, member)
            return _after_join(request, member)
    return render(
        request, "assemblies/join.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@domain_errors_as_pages
def join_link(request, slug):
    """The link the QR code carries: /a/<slug>/join/?code=…; only a display name to type."""
    # A POST carries the code the page offered (only a valid one): a stale code in the
    # address is not sent again, so an account can still join without it.
    code = request.POST.get("code", "") if request.method == "POST" else request.GET.get("code", "")
    assembly, code_ok = join_guard.guarded_lookup(
        request, slug, code, lambda: get_assembly_for_join_link(request.user, slug, code)
    )
    member = membership_for(request.user, assembly)
    if member is not None and member.is_active:
        return redirect(assembly.get_absolute_url())
    initial = (
        {"display_name": request.user.get_full_name()} if request.user.is_authenticated else {}
    )
    form = DisplayNameForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.join(
                user=request.user,
                assembly=assembly,
                code=code,
                display_name=form.cleaned_data["display_name"],
            )
        except DomainError as error:
            form_error(form, error, {}, default="display_name")
        else:
            _login_guest_if_new(request, member)
            return _after_join(request, member)
    context = {
        "form": form,
        "assembly": assembly,
        "code": code if code_ok else "",
        "code_ok": code_ok,
    }
    return render(request, "assemblies/join_link.html", context, status=400 if form.errors else 200)


@require_POST
@login_required
@domain_errors_as_pages
def leave(request, slug):
    assembly, member = get_assembly_for(request.user, slug)
    services.leave_assembly(member=member)
    messages.success(request, _("You left %(name)s.") % {"name": assembly.name})
    return redirect("home")


class LoginView(auth_views.LoginView):
    """Django's login under the guessing limits (core.auth_limits): a refused attempt is a
    429 with the reason on the form, and a successful one remembers this browser."""

    form_class = auth_limits.LimitedAuthenticationForm

    def form_valid(self, form):
        response = super().form_valid(form)
        auth_limits.remember_device(response, form.get_user().get_username())
        return response

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.refused_for_too_many_attempts:
            response.status_code = 429
        return response


def _safe_next(request) -> str | None:
    """The `next` to go to afterwards, only if it stays on this site (never a phishing page)."""
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


@require_http_methods(["GET", "POST"])
def signup(request):
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = accounts.sign_up(
                email=form.cleaned_data["email"], password=form.cleaned_data["password"]
            )
        except DomainError as error:
            form_error(form, error, {"email_taken": "email"}, default="email")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            response = redirect(_safe_next(request) or "home")
            auth_limits.remember_device(response, user.username)
            return response
    return render(
        request, "registration/signup.html", {"form": form}, status=400 if form.errors else 200
    )


@require_http_methods(["GET", "POST"])
@login_required
def account(request):
    """Profile: a guest who joined by code may add an email and password to keep the identity."""
    guest = accounts.is_guest(request.user)
    form = SignupForm(request.POST or None) if guest else None
    if request.method == "POST" and guest and form.is_valid():
        try:
            user = accounts.keep_identity(
                user=request.user,
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
            )
        except DomainError as error:
            form_error(form, error, {"email_taken": "email"}, default="email")
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("Saved: log in with your email from now on."))
            return redirect("account")
    context = {
        "form": form,
        "guest": guest,
        "memberships": selectors.memberships_of(request.user),
        "api_token": accounts.existing_api_token(user=request.user),
    }
    return render(
        request, "registration/account.html", context, status=400 if form and form.errors else 200
    )


@require_POST
@login_required
def api_token_create(request):
    """Make a personal API token (replacing any earlier one) and show it once."""
    context = {
        "form": SignupForm() if accounts.is_guest(request.user) else None,
        "guest": accounts.is_guest(request.user),
        "memberships": selectors.memberships_of(request.user),
    }
    if auth_limits.token_creation_refused(request):
        context["api_token"] = accounts.existing_api_token(user=request.user)
        context["token_error"] = auth_limits.TOO_MANY_TOKENS
        return render(request, "registration/account.html", context, status=429)
    token = accounts.create_api_token(user=request.user)
    context.update(api_token=token, new_token=token.key)
    return render(request, "registration/account.html", context)


@require_POST
@login_required
def api_token_revoke(request):
    if accounts.revoke_api_token(user=request.user):
        messages.success(request, _("Your API token was revoked: it no longer works."))
    return redirect("account")
