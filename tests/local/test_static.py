"""The gateway's local pages: the portal, its sign-in stand-in, Swagger UI and /openapi.json."""

from __future__ import annotations

import http.client
import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from infra.local.gateway import OPENAPI_FILE, PORTAL_DIR, local_page
from tests.support.local_stack import running_stack

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def stack():
    with running_stack() as local:
        yield local


def fetch(stack, path, method="GET", token=None):
    """The raw answer; http.client sends the path as written (no "/../" folding)."""
    address = urlsplit(stack.url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        connection.request(method, path, headers=headers)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_the_portal_page_and_its_files(stack):
    status, headers, body = fetch(stack, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    html = body.decode()
    assert '<html lang="ru">' in html
    assert 'src="/portal/app.js"' in html and 'href="/portal/style.css"' in html
    assert "default-src 'self'" in headers["content-security-policy"]

    status, headers, body = fetch(stack, "/portal/app.js")
    assert status == 200 and headers["content-type"].startswith("application/javascript")
    assert b"/portal/session" in body
    status, headers, _ = fetch(stack, "/portal/style.css")
    assert status == 200 and headers["content-type"].startswith("text/css")


def test_head_answers_the_headers_alone(stack):
    status, headers, body = fetch(stack, "/portal/app.js", method="HEAD")
    assert status == 200 and body == b""
    assert int(headers["content-length"]) == (PORTAL_DIR / "app.js").stat().st_size


def test_the_portal_and_docs_load_nothing_from_other_hosts():
    for name in ("index.html", "app.js", "style.css", "docs.html", "docs-init.js"):
        text = (PORTAL_DIR / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://", text), name
        assert "//cdn" not in text and "@import" not in text, name


def test_docs_use_only_local_assets(stack):
    status, headers, body = fetch(stack, "/docs")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    html = body.decode()
    assert not re.search(r"https?://", html)
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/docs/assets/swagger-ui-bundle.js" in urls
    assert all(url.startswith("/") and not url.startswith("//") for url in urls), urls
    for url in urls:
        status, _, _ = fetch(stack, url)
        assert status == 200, url
    status, _, init = fetch(stack, "/docs/init.js")
    assert b'url: "/openapi.json"' in init

    status, headers, body = fetch(stack, "/docs/assets/swagger-ui-bundle.js")
    assert status == 200 and headers["content-type"].startswith("application/javascript")
    assert len(body) > 100_000
    status, headers, _ = fetch(stack, "/docs/assets/swagger-ui.css")
    assert status == 200 and headers["content-type"].startswith("text/css")
    status, headers, _ = fetch(stack, "/docs/assets/favicon-32x32.png")
    assert status == 200 and headers["content-type"] == "image/png"


def test_openapi_document_is_served_from_docs():
    # Both outcomes, through the same code path as a request.
    status, headers, body = local_page("GET", "/openapi.json")
    if OPENAPI_FILE.is_file():
        assert status == 200 and headers["Content-Type"] == "application/json"
        assert json.loads(body) == json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))
    else:
        assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    assert OPENAPI_FILE == REPO_ROOT / "docs" / "openapi.json"


def test_openapi_document_over_http(stack):
    status, headers, body = fetch(stack, "/openapi.json")
    assert headers["content-type"] == "application/json"
    if not OPENAPI_FILE.is_file():
        assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
        return
    assert status == 200
    assert json.loads(body) == json.loads(OPENAPI_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path",
    [
        "/docs/assets/../../pyproject.toml",
        "/docs/assets/../../../pyproject.toml",
        "/docs/assets/%2e%2e/%2e%2e/pyproject.toml",
        "/docs/assets/..%2f..%2fpyproject.toml",
        "/docs/assets/%2Fetc%2Fpasswd",
        "/docs/assets//etc/passwd",
        "/docs/assets/LICENSE",  # in swagger-ui-py's folder, but not one of the assets
        "/docs/assets/",
        "/portal/../pyproject.toml",
        "/portal/index.html/../../pyproject.toml",
        "/portal/docs.html",
        "/portal/",
        "/pyproject.toml",
        "/infra/local/gateway.py",
    ],
)
def test_no_other_file_is_served(stack, path):
    status, headers, body = fetch(stack, path)
    assert status == 404, path
    assert headers["content-type"] == "application/json"
    assert json.loads(body)["error"]["code"] == "not_found"


def test_the_session_endpoint_issues_tokens_the_api_accepts(stack):
    from infra.local.demo import demo_provider_id

    status, headers, body = fetch(stack, "/portal/session?role=parent")
    assert status == 200 and headers["cache-control"] == "no-store"
    session = json.loads(body)
    assert session["role"] == "parent" and session["sub"] == "demo-parent"
    status, _, children = fetch(stack, "/children", token=session["token"])
    assert status == 200 and "items" in json.loads(children)

    session = json.loads(fetch(stack, "/portal/session?role=provider")[2])
    assert session["provider_id"] == demo_provider_id()
    path = f"/providers/{demo_provider_id()}/programs?limit=1"
    assert fetch(stack, path, token=session["token"])[0] == 200

    session = json.loads(fetch(stack, "/portal/session?role=operator")[2])
    assert fetch(stack, "/reconciliation", token=session["token"])[0] == 200


@pytest.mark.parametrize("query", ["", "?role=admin", "?role="])
def test_the_session_endpoint_refuses_other_roles(stack, query):
    status, _, body = fetch(stack, "/portal/session" + query)
    assert status == 422
    assert json.loads(body)["error"]["code"] == "validation_error"


def test_unknown_paths_and_other_methods_still_404_in_the_envelope(stack):
    for method, path in [
        ("GET", "/nowhere"),
        ("DELETE", "/programs"),
        ("POST", "/"),
        ("POST", "/portal/session?role=parent"),
        ("PUT", "/docs"),
        ("TRACE", "/reconciliation"),
        ("CONNECT", "/programs"),
        ("BREW", "/"),
    ]:
        status, headers, body = fetch(stack, path, method=method)
        assert status == 404, (method, path)
        assert headers["content-type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "not_found"


def test_the_api_is_still_served_alongside(stack):
    status, headers, body = fetch(stack, "/programs?limit=2")
    assert status == 200 and headers["content-type"] == "application/json"
    assert len(json.loads(body)["items"]) == 2
    assert fetch(stack, "/children")[0] == 401


def test_local_pages_are_not_api_routes():
    from infra.local.gateway import GatewayApp
    from infra.template import api_routes

    class NoPool:
        def submit(self, *args):
            raise AssertionError

    app = GatewayApp(api_routes(), NoPool())  # type: ignore[arg-type]
    paths = set(app.routes)
    assert not paths & {"/", "/docs", "/openapi.json", "/portal/session", "/portal/app.js"}
    assert all(local_page("GET", path) is None for path in paths)


def test_the_demo_sign_in_is_not_served_off_loopback():
    from infra.local.gateway import local_page

    status, _, body = local_page("GET", "/portal/session?role=operator", loopback=False)
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    status, _, body = local_page("GET", "/portal/session?role=operator", loopback=True)
    assert status == 200 and json.loads(body)["token"]
