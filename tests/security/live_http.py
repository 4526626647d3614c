"""A browser-like HTTP client for a real server process: cookies, CSRF tokens, no redirects."""

import re

import requests

CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Browser:
    def __init__(self, base: str, address: str | None = None):
        """`address`: the client address a proxy on this host reports (X-Forwarded-For)."""
        self.base = base
        self.session = requests.Session()
        if address:
            self.session.headers["X-Forwarded-For"] = address

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.base + path, allow_redirects=False, timeout=30, **kwargs)

    def post(self, path: str, data: dict, *, form_page: str | None = None, **kwargs):
        """POST as the page's form would: the CSRF token comes from `form_page` (or `path`)."""
        page = self.get(form_page or path)
        token = CSRF_INPUT.search(page.text)
        assert token, f"no CSRF token on {form_page or path} ({page.status_code})"
        return self.session.post(
            self.base + path,
            data={"csrfmiddlewaretoken": token.group(1), **data},
            allow_redirects=False,
            timeout=30,
            **kwargs,
        )

    def login(self, username: str, password: str, **kwargs) -> requests.Response:
        return self.post("/login/", {"username": username, "password": password}, **kwargs)

    @property
    def logged_in(self) -> bool:
        return "/account/" in self.get("/").text
