#!/usr/bin/env python3
"""The "browser" of the conformance runs ($BROWSER): the suite's mock
authorization server approves at once and redirects to the client's
loopback callback, so following the redirects is the whole login."""
import sys
import urllib.request

if len(sys.argv) != 2:
    sys.exit("usage: browser.py URL")
try:
    with urllib.request.urlopen(sys.argv[1], timeout=30) as answer:
        print(f"browser.py: {answer.status} from {answer.url.split('?')[0]}", file=sys.stderr)
except Exception as error:  # the client reports what went wrong; say it too
    sys.exit(f"browser.py: {error}")
