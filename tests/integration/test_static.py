"""Static files (DESIGN 5) and paths beneath the document root."""
import email.utils
import gzip
import os

import pytest

from conftest import exchange, get, recv_until_close
from test_http_core import Conn

OUTSIDE = b"outside the root"


def fetch(server, path, extra="", method="GET"):
    with Conn(server) as c:
        return c.request(get(path=path, extra=extra, method=method),
                         head=method == "HEAD")


def content(server, rel):
    with open(os.path.join(server.docroot, rel), "rb") as f:
        return f.read()


# ---- paths ------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/../outside.txt",
    "/%2e%2e/outside.txt",
    "/%2E%2e/outside.txt",
    "/sub/%2e%2e/%2e%2e/outside.txt",
    "/sub/../../outside.txt",
    "/%2f../outside.txt",
    "/..%2foutside.txt",
    "/sub%2f..%2f..%2foutside.txt",
    "/sub/..%2f..%2foutside.txt",
])
def test_dot_dot_never_leaves_the_root(server, path):
    with server.connect() as s:
        s.sendall(get(path=path, extra="Connection: close\r\n"))
        raw = recv_until_close(s)
    assert raw[9:12] in (b"400", b"403", b"404"), raw[:100]
    assert OUTSIDE not in raw


def test_percent_00_is_400(server):
    r = exchange(server, get(path="/hello.txt%00.html"))[0]
    assert r.status == 400
    assert r.header("Connection") == "close"


def test_absolute_form_target_is_served(server):
    r = fetch(server, "http://127.0.0.1:%d/hello.txt" % server.port)
    assert (r.status, r.body) == (200, b"hello, world\n")


@pytest.mark.parametrize("path", ["/escape", "/escape-rel"])
def test_symlink_out_of_the_root_is_refused(server, path):
    r = fetch(server, path)
    assert r.status in (403, 404)
    assert OUTSIDE not in r.body


def test_symlink_inside_the_root_is_served(server):
    r = fetch(server, "/inside-link.txt")
    assert (r.status, r.body) == (200, b"hello, world\n")


@pytest.mark.parametrize("path", ["/.hidden", "/.git/config", "/sub/.htpasswd",
                                  "/%2ehidden"])
def test_dotfiles_are_404(server, path):
    r = fetch(server, path)
    assert r.status == 404
    assert b"secret" not in r.body


def test_percent_encoded_space_is_served(server):
    r = fetch(server, "/with%20space.txt")
    assert (r.status, r.body) == (200, b"space\n")


# ---- directories ------------------------------------------------------------

def test_index_file_for_root(server):
    r = fetch(server, "/")
    assert r.status == 200 and r.body == content(server, "index.html")
    assert r.header("Content-Type").startswith("text/html")


def test_index_file_for_subdirectory(server):
    r = fetch(server, "/sub/")
    assert (r.status, r.body) == (200, b"<h1>sub</h1>\n")


def test_directory_without_slash_redirects(server):
    r = fetch(server, "/sub")
    assert r.status == 301
    loc = r.header("Location")
    assert loc in ("/sub/", server.url("/sub/")), loc


def test_directory_redirect_keeps_the_query(server):
    r = fetch(server, "/sub?a=1&b=2")
    assert r.status == 301
    assert r.header("Location") in ("/sub/?a=1&b=2", server.url("/sub/?a=1&b=2"))


def test_directory_without_index_is_403_not_listed(server):
    r = fetch(server, "/noindex/")
    assert r.status == 403
    assert b"file.txt" not in r.body


def test_missing_file_is_404(server):
    assert fetch(server, "/nope.txt").status == 404


# ---- types, validators, cache -------------------------------------------------

@pytest.mark.parametrize("path,mime", [
    ("/index.html", "text/html"),
    ("/style.css", "text/css"),
    ("/app.js", "text/javascript"),
    ("/data.json", "application/json"),
    ("/hello.txt", "text/plain"),
    ("/1k.bin", "application/octet-stream"),
])
def test_mime_type(server, path, mime):
    r = fetch(server, path)
    assert r.status == 200
    assert r.header("Content-Type").split(";")[0].strip() == mime


def test_etag_and_last_modified(server):
    r = fetch(server, "/hello.txt")
    assert r.header("ETag", "").startswith('"') and r.header("ETag").endswith('"')
    mtime = int(os.stat(os.path.join(server.docroot, "hello.txt")).st_mtime)
    assert r.header("Last-Modified") == email.utils.formatdate(mtime, usegmt=True)


def test_default_cache_control_is_no_cache(server):
    assert fetch(server, "/hello.txt").header("Cache-Control") == "no-cache"


def test_cache_max_age(porch):
    p = porch(conf_lines=["cache_max_age 600"])
    assert "max-age=600" in fetch(p, "/hello.txt").header("Cache-Control")


def etag_of(server, path="/hello.txt"):
    return fetch(server, path).header("ETag")


def assert_304(r, etag):
    assert r.status == 304
    assert r.body == b""
    assert r.header("Content-Length") in (None, "0", "13")
    assert r.header("ETag") == etag


def test_if_none_match_exact_is_304(server):
    e = etag_of(server)
    assert_304(fetch(server, "/hello.txt", "If-None-Match: %s\r\n" % e), e)


def test_if_none_match_list_is_304(server):
    e = etag_of(server)
    assert_304(fetch(server, "/hello.txt", 'If-None-Match: "nope", %s\r\n' % e), e)


def test_if_none_match_weak_is_304(server):
    e = etag_of(server)
    assert_304(fetch(server, "/hello.txt", "If-None-Match: W/%s\r\n" % e), e)


def test_if_none_match_star_is_304(server):
    e = etag_of(server)
    assert_304(fetch(server, "/hello.txt", "If-None-Match: *\r\n"), e)


def test_if_none_match_other_is_200(server):
    r = fetch(server, "/hello.txt", 'If-None-Match: "nope"\r\n')
    assert (r.status, r.body) == (200, b"hello, world\n")


def lm_of(server):
    return email.utils.parsedate_to_datetime(fetch(server, "/hello.txt").header("Last-Modified"))


def http_date(dt):
    return email.utils.format_datetime(dt, usegmt=True)


def test_if_modified_since_equal_is_304(server):
    lm = lm_of(server)
    r = fetch(server, "/hello.txt", "If-Modified-Since: %s\r\n" % http_date(lm))
    assert r.status == 304 and r.body == b""


def test_if_modified_since_later_is_304(server):
    import datetime
    lm = lm_of(server) + datetime.timedelta(seconds=5)
    r = fetch(server, "/hello.txt", "If-Modified-Since: %s\r\n" % http_date(lm))
    assert r.status == 304


def test_if_modified_since_earlier_is_200(server):
    import datetime
    lm = lm_of(server) - datetime.timedelta(days=1)
    r = fetch(server, "/hello.txt", "If-Modified-Since: %s\r\n" % http_date(lm))
    assert (r.status, r.body) == (200, b"hello, world\n")


def test_if_none_match_wins_over_if_modified_since(server):
    lm = lm_of(server)
    r = fetch(server, "/hello.txt", 'If-None-Match: "nope"\r\nIf-Modified-Since: %s\r\n'
              % http_date(lm))
    assert r.status == 200


# ---- ranges -------------------------------------------------------------------

@pytest.mark.parametrize("spec,first,last", [
    ("bytes=0-99", 0, 99),
    ("bytes=100-", 100, 1023),
    ("bytes=-50", 974, 1023),
    ("bytes=1000-5000", 1000, 1023),
])
def test_single_range_is_206(server, spec, first, last):
    data = content(server, "1k.bin")
    r = fetch(server, "/1k.bin", "Range: %s\r\n" % spec)
    assert r.status == 206
    assert r.header("Content-Range") == "bytes %d-%d/1024" % (first, last)
    assert r.header("Content-Length") == str(last - first + 1)
    assert r.body == data[first:last + 1]


def test_unsatisfiable_range_is_416(server):
    r = fetch(server, "/1k.bin", "Range: bytes=2000-\r\n")
    assert r.status == 416
    assert r.header("Content-Range") == "bytes */1024"


def test_multiple_ranges_get_the_full_file(server):
    r = fetch(server, "/1k.bin", "Range: bytes=0-1,5-6\r\n")
    assert r.status == 200
    assert r.body == content(server, "1k.bin")


def test_if_range_matching_etag_gives_206(server):
    e = etag_of(server, "/1k.bin")
    r = fetch(server, "/1k.bin", "Range: bytes=0-9\r\nIf-Range: %s\r\n" % e)
    assert r.status == 206 and r.body == content(server, "1k.bin")[:10]


def test_if_range_other_etag_gives_full_200(server):
    r = fetch(server, "/1k.bin", 'Range: bytes=0-9\r\nIf-Range: "nope"\r\n')
    assert r.status == 200 and r.body == content(server, "1k.bin")


# ---- precompressed siblings ---------------------------------------------------

def test_gzip_sibling_served_to_gzip_clients(server):
    r = fetch(server, "/style.css", "Accept-Encoding: gzip, deflate, br\r\n")
    assert r.status == 200
    assert r.header("Content-Encoding") == "gzip"
    assert "accept-encoding" in r.header("Vary", "").lower()
    assert r.header("Content-Type").startswith("text/css")
    assert gzip.decompress(r.body) == content(server, "style.css")


def test_identity_without_accept_encoding(server):
    r = fetch(server, "/style.css")
    assert r.header("Content-Encoding") is None
    assert r.body == content(server, "style.css")
    assert "accept-encoding" in r.header("Vary", "").lower()


def test_identity_when_gzip_refused_with_q0(server):
    r = fetch(server, "/style.css", "Accept-Encoding: gzip;q=0, identity\r\n")
    assert r.header("Content-Encoding") is None
    assert r.body == content(server, "style.css")


def test_gzip_etag_differs_from_identity_etag(server):
    a = fetch(server, "/style.css").header("ETag")
    b = fetch(server, "/style.css", "Accept-Encoding: gzip\r\n").header("ETag")
    assert a and b and a != b


# ---- bodies -------------------------------------------------------------------

def test_empty_file_is_200_with_length_0(server):
    r = fetch(server, "/empty.txt")
    assert r.status == 200
    assert r.header("Content-Length") == "0" and r.body == b""


def test_100k_file_is_byte_exact(server):
    r = fetch(server, "/100k.bin")
    assert r.status == 200 and r.body == content(server, "100k.bin")


def test_3mb_file_is_byte_exact(server):
    r = fetch(server, "/big.bin")
    assert r.header("Content-Length") == str(3 * 1024 * 1024)
    assert r.body == content(server, "big.bin")


def test_3mb_file_twice_on_one_connection(server):
    data = content(server, "big.bin")
    with Conn(server) as c:
        c.send(get(path="/big.bin") + get(path="/big.bin"))
        assert c.response().body == data
        assert c.response().body == data
