"""Nothing a page of ours loads comes from another host, and every page has our icon.

Each page we serve (the dashboard's, the login page, Swagger UI, ReDoc, the admin site) is
fetched with Django's test client; so is everything it loads (scripts, style sheets, icons),
read from the static files or from the view that serves it. No page names another host at all,
no style sheet loads anything from one, and no script carries a resource address (an image, a
style sheet, a script, a font) on another host. ``/favicon.ico`` (what a browser asks for when a
page names no icon) is our icon. The browser test (test_browser_network.py) checks the same in
Chromium by the requests it really makes.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.factories.jobs import make_job

pytestmark = pytest.mark.django_db

OUR_ICONS = ("dashboard/favicon.svg", "dashboard/favicon.ico")

ANY_URL = re.compile(r"""(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s"'<>)`\\]*""", re.I)
# An address a script would load: an image, style sheet, script or font, or a font/CDN host.
RESOURCE_URL = re.compile(
    r"""https?://[^\s"'`<>()\\]+?\.(?:svg|png|gif|jpe?g|webp|ico|css|m?js|woff2?|ttf|otf|eot)"""
    r"""(?=[?#"'`\s)]|$)"""
    r"""|https?://(?:fonts\.googleapis|fonts\.gstatic|cdn\.|unpkg\.com|cdnjs\.)[^\s"'`<>()\\]*""",
    re.I,
)
# An XML namespace (an inline SVG's xmlns="http://www.w3.org/2000/svg") names, it loads nothing.
XMLNS = re.compile(r"""\sxmlns(?::\w+)?=("[^"]*"|'[^']*')""")
# A style sheet's url(...) (quoted strings may hold escaped quotes) and @import "...".
CSS_URL = re.compile(
    r"""url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"\s]*))\s*\)"""
    r"""|@import\s+(?:"([^"]*)"|'([^']*)')"""
)


class Assets(HTMLParser):
    """The addresses a page loads (scripts, style sheets, icons, images) and its icons."""

    def __init__(self) -> None:
        super().__init__()
        self.loads: list[str] = []
        self.icons: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and values.get("src"):
            self.loads.append(values["src"] or "")
        if tag == "link" and values.get("href"):
            self.loads.append(values["href"] or "")
            if "icon" in (values.get("rel") or "").split():
                self.icons.append(values["href"] or "")


def external(urls: list[str]) -> list[str]:
    """The URLs that name a host (other than the test client's own)."""
    return [u for u in urls if urlsplit(u).netloc and urlsplit(u).hostname != "testserver"]


def css_loads(css: str) -> list[str]:
    """What a style sheet loads: its url(...) and @import targets, data: URIs left out."""
    targets = ["".join(groups) for groups in CSS_URL.findall(css)]
    return [t for t in targets if not t.startswith("data:")]


def fetch(client: Client, url: str) -> bytes:
    """What ``url`` (an address on this server) answers: a static file, or a view's answer."""
    parts = urlsplit(url)
    assert not parts.netloc or parts.hostname == "testserver", url
    if parts.path.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/"):
        name = parts.path.removeprefix("/").removeprefix(settings.STATIC_URL.strip("/") + "/")
        path = finders.find(name)
        if path:
            return Path(path).read_bytes()
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return b"".join(response.streaming_content) if response.streaming else response.content


def page_problems(client: Client, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    html = response.content.decode()
    problems = [f"{url} names {u}" for u in external(ANY_URL.findall(XMLNS.sub("", html)))]
    assets = Assets()
    assets.feed(html)
    for asset in assets.loads:
        if external([asset]):
            continue  # already reported
        body = fetch(client, asset).decode("utf-8", "replace")
        kind = urlsplit(asset).path.rsplit(".", 1)[-1]
        if kind == "css" or asset.endswith(".css"):
            problems += [f"{asset} loads {u}" for u in external(css_loads(body))]
            # an SVG inside a data: URI names its namespace, which loads nothing
            rest = CSS_URL.sub("", body)
            problems += [f"{asset} names {u}" for u in external(ANY_URL.findall(rest))]
        elif kind in ("js", "mjs") or "script" in asset:
            problems += [f"{asset} loads {u}" for u in RESOURCE_URL.findall(body)]
    ours = [icon for icon in assets.icons if any(name in icon for name in OUR_ICONS)]
    if not ours and not url.startswith("/admin/"):  # the admin's: /favicon.ico
        problems.append(f"{url} names no icon of ours ({assets.icons})")
    return problems


def test_every_page_loads_nothing_from_elsewhere(client, admin_user, project, graph, operator):
    job = make_job(project, graph, submitted_by=operator)
    assert page_problems(client, "/accounts/login/") == []
    assert page_problems(client, "/admin/login/") == []
    client.force_login(admin_user)
    pages = [
        "/",
        f"/jobs/{job.pk}/",
        "/graphs/",
        f"/graphs/{graph.pk}/",
        "/graphs/new/",
        "/imports/new/",
        "/api/schema/swagger-ui/",
        "/api/schema/redoc/",
        "/admin/",
    ]
    problems = [problem for url in pages for problem in page_problems(client, url)]
    assert problems == [], "\n".join(problems)


def test_the_checks_can_fail():
    assert external(["/static/x.css", "http://testserver/x", "//cdn.example.com/x.js"]) == [
        "//cdn.example.com/x.js"
    ]
    script = (
        'a="https://cdn.redoc.ly/redoc/logo-mini.svg";b="http://www.w3.org/2000/svg";'
        'c="https://redux.js.org/Errors";d="https://github.com/x/y.js/issues/1"'
    )
    assert RESOURCE_URL.findall(script) == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
    css = (
        'a{background:url(https://fonts.gstatic.com/x.woff2)} b{background:url("/static/y.png")}'
        """c{mask:url("data:image/svg+xml,<svg xmlns=\\"http://www.w3.org/2000/svg\\"/>")}"""
        "@import 'https://cdn.example.com/z.css';"
    )
    assert css_loads(css) == [
        "https://fonts.gstatic.com/x.woff2",
        "/static/y.png",
        "https://cdn.example.com/z.css",
    ]
    assert ANY_URL.findall(CSS_URL.sub("", css)) == []
    assets = Assets()
    assets.feed(
        '<link rel="icon" href="/static/dashboard/favicon.svg"><script src="/s.js"></script>'
    )
    assert assets.icons == ["/static/dashboard/favicon.svg"] and assets.loads[1] == "/s.js"


def test_favicon_ico_is_our_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    body = response.content
    assert body == Path(finders.find(OUR_ICONS[1])).read_bytes()
    assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert "max-age" in response["Cache-Control"]
    assert client.head("/favicon.ico").status_code == 200
    assert client.post("/favicon.ico").status_code == 405
