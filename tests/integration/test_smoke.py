"""The first thing to work: porch starts, serves a file, stops cleanly."""
import subprocess

from conftest import exchange, get


def test_serves_index_and_stops_cleanly(server):
    r = exchange(server, get(extra="Connection: close\r\n"))[0]
    assert r.status == 200
    assert b"hello" in r.body
    assert server.stop() == 0


def test_curl_fetches_a_file(server):
    out = subprocess.run(["curl", "-sS", "-o", "-", server.url("/hello.txt")],
                         capture_output=True, timeout=10)
    assert out.stdout == b"hello, world\n"
