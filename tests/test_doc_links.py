"""Every link in README.md and docs/*.md points into this repository (a file or folder that
exists, and a heading that exists when it names one) or to a public http(s) address; no page
names a path outside the repository (``../shared/...``), which a clone does not have."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from tests.conftest import REPO

PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
FENCED = re.compile(r"^```.*?^```[ \t]*$", re.M | re.S)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
INLINE_LINK = re.compile(
    r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+\"[^\"]*\")?\s*\)"
)
AUTOLINK = re.compile(r"<((?:https?|ftp|file|mailto):[^>\s]+)>")
REFERENCE = re.compile(
    r"^ {0,3}\[[^\]]+\]:[ \t]*(<[^>]*>|\S+)(?:[ \t]+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?[ \t]*$", re.M
)
# A path that climbs out of the page's folder, in the text or in code: ../shared/reference/x.md
CLIMBING = re.compile(r"(?<![\w./-])((?:\.\./)+[\w.@~+-][\w./@~+-]*)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$", re.M)


def without_code(text: str) -> str:
    """The page with fenced blocks and code spans blanked out: links there are just text."""
    text = FENCED.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return CODE_SPAN.sub("", text)


def links(text: str) -> list[str]:
    prose = without_code(text)
    found = [m.group(1) for m in INLINE_LINK.finditer(prose)]
    found += [m.group(1) for m in AUTOLINK.finditer(prose)]
    found += [m.group(1) for m in REFERENCE.finditer(prose)]
    return [target.strip("<>") for target in found]


def anchors(page: Path) -> set[str]:
    """GitHub's ids for the page's headings: lower case, punctuation dropped, spaces to -."""
    seen: dict[str, int] = {}
    ids = set()
    for match in HEADING.finditer(FENCED.sub("", page.read_text())):
        title = CODE_SPAN.sub(lambda m: m.group(2), match.group(1))
        title = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", title)  # a link: its text
        slug = re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        ids.add(slug if n == 0 else f"{slug}-{n}")
    return ids


def public_host(host: str) -> bool:
    if not host or "." not in host or host.endswith((".local", ".localhost", ".internal")):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return True
    return address.is_global


def problem(page: Path, target: str) -> str | None:
    """What is wrong with a link on ``page``, or None."""
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        return None if public_host(parts.hostname or "") else "not a public address"
    if parts.scheme or parts.netloc:
        return f"a {parts.scheme or 'network'} link, neither in the repository nor http(s)"
    path = unquote(parts.path)
    resolved = (page.parent / path).resolve() if path else page
    if not resolved.is_relative_to(REPO):
        return "outside the repository"
    if not resolved.exists():
        return "no such file in the repository"
    if parts.fragment and resolved.suffix == ".md" and parts.fragment not in anchors(resolved):
        return f"no heading #{parts.fragment} in {resolved.relative_to(REPO)}"
    return None


def test_the_pages_are_found():
    assert len(PAGES) >= 8 and all(page.exists() for page in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_link_points_into_the_repository_or_to_a_public_address(page):
    text = page.read_text()
    bad = [(target, why) for target in links(text) if (why := problem(page, target))]
    for match in CLIMBING.finditer(text):
        path = (page.parent / match.group(1)).resolve()
        if not (path.is_relative_to(REPO) and path.exists()):
            bad.append((match.group(1), "a path outside the repository, or missing"))
    assert bad == [], f"{page.relative_to(REPO)}: {bad}"


def test_the_checks_can_fail(tmp_path):
    page = REPO / "docs" / "api.md"
    assert problem(page, "security.md") is None
    assert problem(page, "../README.md#set-up-on-a-fresh-machine") is None
    assert problem(page, "#a-token") is None
    assert problem(page, "#no-such-heading") is not None
    assert problem(page, "../../shared/reference/ges.md") == "outside the repository"
    assert problem(page, "nowhere.md") == "no such file in the repository"
    assert problem(page, "https://github.com/alibaba/GraphScope") is None
    for target in (
        "http://127.0.0.1:8000/",
        "http://localhost/x",
        "http://host:port",
        "file:///etc",
    ):
        assert problem(page, target) is not None, target
    text = "[a](x.md) `[b](y.md)` [c][d]\n\n[d]: z.md\n[DOC]: the key is in the docs\n```\n[e](w.md)\n```"
    assert links(text) == ["x.md", "z.md"]
    assert CLIMBING.findall("copies of `../shared/data`, not ../x") == ["../shared/data", "../x"]
