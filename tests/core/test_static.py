"""The SPA's files: precompressed variants by Accept-Encoding, cache headers, deep links; gzip for large JSON."""

import gzip
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response
from fastapi.testclient import TestClient

import backend.main
from backend.core.compression import JSONCompressionMiddleware
from backend.core.static import accepted_encodings
from backend.main import create_app

SCRIPT = b"console.log('phone home');\n" * 200
INDEX = b"<!doctype html><html><body><div id=app></div><script src=/assets/index-abc123.js></script></body></html>"


@pytest.fixture
def spa_dir(tmp_path: Path) -> Path:
    """A fake build: a hashed script with its .br and .gz, a stylesheet with none, index.html, the service worker."""
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "assets" / "index-abc123.js").write_bytes(SCRIPT)
    # Not real brotli: the test only needs to see which file was sent.
    (dist / "assets" / "index-abc123.js.br").write_bytes(b"BR:" + SCRIPT[:40])
    (dist / "assets" / "index-abc123.js.gz").write_bytes(gzip.compress(SCRIPT))
    (dist / "assets" / "plain-def456.css").write_bytes(b"body{margin:0}")
    (dist / "index.html").write_bytes(INDEX)
    (dist / "index.html.gz").write_bytes(gzip.compress(INDEX))
    (dist / "sw.js").write_bytes(b"self.addEventListener('fetch', () => {})")
    (dist / ".vite").mkdir()
    (dist / ".vite" / "manifest.json").write_text("{}")
    (tmp_path / "secret.txt").write_text("outside the build")
    return dist


@pytest.fixture
def client(db, spa_dir, monkeypatch) -> TestClient:
    monkeypatch.setattr(backend.main, "SPA_DIR", spa_dir)
    return TestClient(create_app(db))


def test_brotli_is_preferred_then_gzip_then_the_plain_file(client):
    url = "/assets/index-abc123.js"
    br = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert br.status_code == 200
    assert br.headers["content-encoding"] == "br"
    assert br.headers["content-type"].startswith("text/javascript")
    assert br.headers["vary"] == "Accept-Encoding"
    assert br.headers["content-length"] == str(len(b"BR:" + SCRIPT[:40]))

    gz = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gz.headers["content-encoding"] == "gzip"
    assert gz.content == SCRIPT  # httpx undoes the gzip
    assert gz.headers["content-type"].startswith("text/javascript")
    assert int(gz.headers["content-length"]) < len(SCRIPT) / 5

    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == SCRIPT
    assert plain.headers["content-length"] == str(len(SCRIPT))
    assert plain.headers["vary"] == "Accept-Encoding"

    refused = client.get(url, headers={"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"


def test_accept_encoding_parsing():
    assert accepted_encodings("gzip, deflate, br, zstd") >= {"gzip", "br"}
    assert accepted_encodings("br;q=0, gzip;q=0.5") == {"gzip"}
    assert accepted_encodings("*") >= {"br", "gzip"}
    assert accepted_encodings("*, br;q=0") == {"*", "gzip"}
    assert accepted_encodings("") == set()


def test_hashed_assets_are_immutable_and_the_shell_is_revalidated(client):
    asset = client.get("/assets/plain-def456.css", headers={"Accept-Encoding": "br"})
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert asset.headers["content-type"].startswith("text/css")
    assert "content-encoding" not in asset.headers  # no variant was built for it

    for path in ("/", "/index.html", "/login", "/sw.js"):
        r = client.get(path)
        assert r.status_code == 200, path
        assert r.headers["cache-control"] == "no-cache", path
    assert client.get("/sw.js").headers["content-type"].startswith("text/javascript")


def test_a_current_copy_is_answered_304(client):
    first = client.get("/sw.js")
    tag = first.headers["etag"]
    again = client.get("/sw.js", headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["cache-control"] == "no-cache"
    # Each encoding is its own representation with its own validator.
    br = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "br"})
    gz = client.get("/assets/index-abc123.js", headers={"Accept-Encoding": "gzip"})
    assert br.headers["etag"] != gz.headers["etag"]
    assert (
        client.get(
            "/assets/index-abc123.js", headers={"Accept-Encoding": "br", "If-None-Match": br.headers["etag"]}
        ).status_code
        == 304
    )
    assert (
        client.get(
            "/assets/index-abc123.js",
            headers={"Accept-Encoding": "gzip", "If-None-Match": br.headers["etag"]},
        ).status_code
        == 200
    )
    assert (
        client.get("/m/outbox", headers={"If-None-Match": client.get("/m").headers["etag"]}).status_code
        == 304
    )


def test_deep_links_fall_back_to_index_html(client):
    for path in ("/m", "/m/outbox", "/tickets/12", "/screening?tab=women"):
        r = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert r.status_code == 200, path
        assert r.content == INDEX
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["content-encoding"] == "gzip"
        assert r.headers["cache-control"] == "no-cache"


def test_missing_files_and_api_paths_are_not_answered_with_the_page(client):
    assert client.get("/assets/gone-000000.js").status_code == 404
    assert client.get("/favicon.ico").status_code == 404
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_path_traversal_and_hidden_files_are_refused(client):
    for path in (
        "/../secret.txt",
        "/assets/../../secret.txt",
        "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/.vite/manifest.json",
    ):
        r = client.get(path)
        assert b"outside the build" not in r.content, path
        assert r.content != b"{}", path
    assert client.get("/.vite/manifest.json").status_code == 404


def test_no_build_means_404(db, tmp_path, monkeypatch):
    monkeypatch.setattr(backend.main, "SPA_DIR", tmp_path / "missing")
    assert TestClient(create_app(db)).get("/m").status_code == 404


def _json_app(size: int) -> FastAPI:
    app = FastAPI()
    app.add_middleware(JSONCompressionMiddleware)

    @app.get("/json")
    def big_json():
        return JSONResponse({"rows": ["x" * 10] * (size // 14)}, headers={"ETag": '"v1"'})

    @app.get("/bytes")
    def photo():
        return Response(b"\xff\xd8" + b"\x00" * 5000, media_type="image/jpeg")

    @app.get("/encoded")
    def encoded():
        return Response(
            gzip.compress(b"{}" * 3000), media_type="application/json", headers={"Content-Encoding": "gzip"}
        )

    return app


def test_json_above_the_threshold_is_gzipped():
    client = TestClient(_json_app(20_000))
    r = client.get("/json", headers={"Accept-Encoding": "gzip, br"})
    assert r.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in r.headers["vary"]
    assert int(r.headers["content-length"]) < 2000
    # The ETag names the record's version, which If-Match compares: compression leaves it strong.
    assert r.headers["etag"] == '"v1"'
    assert len(r.json()["rows"]) == 20_000 // 14

    plain = client.get("/json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == '"v1"'


def test_small_json_other_types_and_encoded_bodies_pass_through():
    client = TestClient(_json_app(300))
    small = client.get("/json", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
    assert int(small.headers["content-length"]) < 1024

    photo = client.get("/bytes", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in photo.headers
    assert len(photo.content) == 5002

    encoded = client.get("/encoded", headers={"Accept-Encoding": "gzip"})
    assert encoded.headers["content-encoding"] == "gzip"
    assert encoded.content == b"{}" * 3000  # compressed once, not twice


def test_the_api_compresses_a_large_list(client, login, tree):
    api = login("county_admin", tree.county)
    big = api.get("/api/v1/branches?limit=200", headers={"Accept-Encoding": "gzip"})
    assert big.status_code == 200
    assert len(big.content) > 1024  # seven branches
    assert big.headers["content-encoding"] == "gzip"
    assert int(big.headers["content-length"]) < len(big.content)
    small = api.get("/api/v1/health", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in small.headers
