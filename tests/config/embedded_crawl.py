"""Run by tests/config/test_embedded_default.py in a process of its own, on the embedded default
(SQLite, Celery eager) after migrate and seed_demo: every demo login opens its start page and every
page its menu and start page link to; the participant's Min plan opens without a login. Prints one
JSON line: per user the pages opened and those that answered 500 or more."""

import html
import json
import re
import sys

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

setup_test_environment()  # the test client's host, 'testserver', is allowed
SKIP = ("/logga-ut/", "/static/", "/admin/", "/media/")
LINK = re.compile(r'href="(/[^"#]*)"')

results: dict[str, dict] = {}
for user in get_user_model().objects.filter(is_superuser=False).order_by("username"):
    client = Client()
    client.force_login(user)
    start = client.get("/", follow=True)
    pages = {"/": start.status_code}
    for link in sorted({html.unescape(link) for link in LINK.findall(start.content.decode())} - {"/"}):
        if not link.startswith(SKIP):
            pages[link] = client.get(link).status_code
    results[user.username] = {"pages": pages, "failed": {url: code for url, code in pages.items() if code >= 500}}
plan = sys.argv[1] if len(sys.argv) > 1 else ""
results["(utan inloggning)"] = {"pages": {plan: Client().get(plan).status_code}} if plan else {"pages": {}}
print(json.dumps(results))
