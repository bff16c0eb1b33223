#!/usr/bin/env python3
"""A scripted browser for the oidc-provider of tests/oauth/provider.mjs.

Given an authorization URL, it does what a person would: it loads the
provider's pages with a cookie jar, fills in the login form (any login and
password: the provider's development interactions accept them), submits the
consent form, and follows redirects until one leaves the provider for the
client's redirect URI (the loopback callback).

    browser.py URL                     ($BROWSER) then loads the callback, as a
                                       browser would, and exits 0 on a 2xx
    browser.py --print-redirect URL    prints the callback URL on stdout
                                       instead of loading it (to paste into
                                       `codex mcp login NAME --no-browser`)
    browser.py --device URL            approves a device login (RFC 8628)
                                       from the verification URL that
                                       carries the user code: confirms the
                                       code, logs in, consents, and exits 0
                                       on the provider's success page

Options: --login NAME (default `codex-user`).
Environment: OAUTH_BROWSER_LOG, a file to append what happened to (codex
starts $BROWSER with its output discarded).

Standard library only. Every request has a timeout and the whole walk a
bounded number of steps; errors exit non-zero with the reason on stderr.
"""

import html.parser
import http.cookiejar
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from typing import NoReturn

MAX_STEPS = 20
TIMEOUT = 15


def log(message: str) -> None:
    print(f"browser.py: {message}", file=sys.stderr)
    path = os.environ.get("OAUTH_BROWSER_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as file:
            file.write(f"browser.py[{os.getpid()}]: {message}\n")


def fail(message: str) -> NoReturn:
    log(f"error: {message}")
    sys.exit(1)


def shown(url: str) -> str:
    """A URL without its query (which carries codes and state)."""
    return url.split("?", 1)[0]


class Forms(html.parser.HTMLParser):
    """The forms of a page: action, method and their input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "inputs": [],
            }
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None:
            self._current["inputs"].append(attrs)

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """Redirects are followed by hand, to see where each one goes."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def fill(form: dict, login: str) -> dict:
    """The fields a person would submit."""
    fields = {}
    for field in form["inputs"]:
        name = field.get("name")
        if not name:
            continue
        kind = (field.get("type") or "text").lower()
        if kind in ("submit", "button", "image", "reset"):
            continue
        if kind == "password":
            fields[name] = "any-password"
        elif kind in ("text", "email") and not field.get("value"):
            fields[name] = login
        else:
            fields[name] = field.get("value") or ""
    return fields


def walk(start: str, login: str, device: bool = False) -> str:
    """Drives the provider's pages from `start`; the URL of the first
    redirect that leaves the provider's origin (for `device`: the URL of the
    first page without a form, where the device flow ends)."""
    origin = urllib.parse.urlsplit(start)[:2]
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirects())
    url, data = start, None
    for _ in range(MAX_STEPS):
        request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
        if data is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            answer = opener.open(request, timeout=TIMEOUT)
            status, headers, body = answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()
        except urllib.error.URLError as error:
            fail(f"cannot load {shown(url)}: {error.reason}")
        log(f"{'POST' if data is not None else 'GET'} {shown(url)} -> {status}")
        if status in (301, 302, 303, 307, 308):
            location = headers.get("Location")
            if not location:
                fail(f"{status} from {shown(url)} without a Location")
            target = urllib.parse.urljoin(url, location)
            if urllib.parse.urlsplit(target)[:2] != origin:
                return target
            url, data = target, None
            continue
        text = body.decode("utf-8", "replace")
        if status != 200:
            fail(f"{status} from {shown(url)}: {text[:500]}")
        parser = Forms()
        parser.feed(text)
        forms = [form for form in parser.forms if form["method"] == "post"]
        if not forms and device:
            log(f"device login done on {shown(url)}")
            return url
        if not forms:
            fail(f"no form to submit on {shown(url)}: {text[:500]}")
        form = forms[0]
        url = urllib.parse.urljoin(url, form["action"] or url)
        data = urllib.parse.urlencode(fill(form, login)).encode()
    fail(f"no redirect out of the provider after {MAX_STEPS} steps")


def main(argv: list[str]) -> int:
    args = argv[1:]
    print_redirect = "--print-redirect" in args
    device = "--device" in args
    args = [arg for arg in args if arg not in ("--print-redirect", "--device")]
    login = "codex-user"
    if len(args) >= 2 and args[0] == "--login":
        login, args = args[1], args[2:]
    if len(args) != 1:
        print("usage: browser.py [--print-redirect | --device] [--login NAME] URL", file=sys.stderr)
        return 2
    if device:
        walk(args[0], login, device=True)
        return 0
    callback = walk(args[0], login)
    if print_redirect:
        log(f"redirected to {shown(callback)}; printing it")
        print(callback, flush=True)
        return 0
    try:
        with urllib.request.urlopen(callback, timeout=TIMEOUT) as answer:
            log(f"callback {shown(callback)} -> {answer.status}")
    except urllib.error.HTTPError as error:
        fail(f"callback {shown(callback)} -> {error.code}: {error.read()[:300]!r}")
    except urllib.error.URLError as error:
        fail(f"cannot load the callback {shown(callback)}: {error.reason}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
