"""Configuration (DESIGN 8): the config test mode, its FILE:LINE errors,
command-line overrides, and refusing to start on a bad configuration."""
import inspect
import os
import socket
import subprocess

import pytest

from conftest import (PORCH_BIN, PORCH_QEMU, SLOW, exchange, free_port, get,
                      parse_responses, read_response, recv_until_close)


def run_porch(*args, timeout=10 * SLOW):
    cmd = [PORCH_BIN] + list(args)
    if PORCH_QEMU:
        cmd = [PORCH_QEMU] + cmd
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def base_lines(tmp, docroot):
    return ["listen 127.0.0.1:%d" % free_port(), "root %s" % docroot]


def write(path, lines):
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def line():
    """The caller's line number, so a failing table row points at itself."""
    return inspect.currentframe().f_back.f_lineno


# (row line, bad config line, expected message after "FILE:LINE: ").
# Every bad line is appended after a valid base of 2 lines, so it is line 3.
BAD_LINES = [
    (line(), "bogus 1", 'unknown directive "bogus"'),
    (line(), "workers x", 'workers: expected 1 to 64, got "x"'),
    (line(), "workers 0", 'workers: expected 1 to 64, got "0"'),
    (line(), "workers 65", 'workers: expected 1 to 64, got "65"'),
    (line(), "workers -1", 'workers: expected 1 to 64, got "-1"'),
    (line(), "workers 2 3", "workers: expected N"),
    (line(), "workers", "workers: expected N"),
    (line(), "keepalive_requests 0", 'keepalive_requests: expected 1 to '),
    (line(), "header_timeout 99999999999999999999",
     'header_timeout: expected 1 to 3600, got "99999999999999999999"'),
    (line(), "max_body_size 1X", 'max_body_size: expected a size from 0 to '),
    (line(), "max_body_size -1", 'max_body_size: expected a size from 0 to '),
    (line(), "max_body_size k", 'max_body_size: expected a size from 0 to '),
    (line(), "max_head_size 10", 'max_head_size: expected a size from 256 to '),
    (line(), "gzip_static maybe", 'gzip_static: expected on or off, got "maybe"'),
    (line(), "allow_root yes", 'allow_root: expected on or off, got "yes"'),
    (line(), "listen nonsense",
     'listen: expected ADDR:PORT, [IPV6]:PORT or PORT, got "nonsense"'),
    (line(), "listen 127.0.0.1:99999",
     'listen: expected ADDR:PORT, [IPV6]:PORT or PORT, got "127.0.0.1:99999"'),
    (line(), "listen 999.0.0.1:80",
     'listen: expected ADDR:PORT, [IPV6]:PORT or PORT, got "999.0.0.1:80"'),
    (line(), "listen 127.0.0.1:80 127.0.0.1:81", "listen: expected ADDR:PORT"),
    (line(), "status_path foo", 'status_path: expected /PATH or off, got "foo"'),
    (line(), "auth admin Realm {tmp}/pw",
     'auth: prefix "admin" must start with /'),
    (line(), "auth /admin Realm {tmp}/no-such-pw",
     "auth: {tmp}/no-such-pw: No such file or directory"),
    (line(), "auth /admin Realm", "auth: expected PREFIX REALM PASSWORD_FILE"),
    (line(), "index", "index: expected FILE..."),
    (line(), "index ../x.html", 'index: "../x.html" must be a plain file name'),
    (line(), "error_log off", "error_log: the error log cannot be off"),
    (line(), "access_log stderr", "access_log: expected FILE, syslog or off"),
    (line(), "mime_type foo", "mime_type: expected EXT TYPE"),
    (line(), "mime_type foo bar", 'mime_type: "bar" is not a type/subtype'),
    (line(), "pressure_grace 0", "pressure_grace: expected 1 to 10000"),
]


@pytest.mark.parametrize("row,bad,message", BAD_LINES,
                         ids=[r[1] for r in BAD_LINES])
def test_bad_line_is_reported_with_file_and_line(tmp_path, docroot, row, bad,
                                                 message):
    tmp = str(tmp_path)
    write(os.path.join(tmp, "pw"), ["admin:$5$x$y"])
    conf = write(os.path.join(tmp, "porch.conf"),
                 base_lines(tmp, docroot) + [bad.format(tmp=tmp)])
    r = run_porch("-t", "-c", conf)
    assert r.returncode == 1, "table row at line %d: %r" % (row, r)
    assert r.stdout == "", "row %d" % row
    lines = r.stderr.splitlines()
    want = "%s:3: %s" % (conf, message.format(tmp=tmp))
    assert len(lines) == 1 and lines[0].startswith(want), (
        "table row at line %d: want %r, got %r" % (row, want, lines))


# Mistakes only the whole configuration can show: "FILE: directive: ...".
WHOLE_FILE = [
    (line(), "root /no/such/dir", "root: /no/such/dir: No such file or directory"),
    (line(), "user nosuchuser", 'user: no such user "nosuchuser"'),
    (line(), "group nogroup", "group: needs a user directive too"),
]


@pytest.mark.parametrize("row,bad,message", WHOLE_FILE,
                         ids=[r[1] for r in WHOLE_FILE])
def test_whole_configuration_mistake_names_the_file(tmp_path, docroot, row,
                                                     bad, message):
    conf = write(str(tmp_path / "porch.conf"),
                 base_lines(str(tmp_path), docroot) + [bad])
    r = run_porch("-t", "-c", conf)
    assert r.returncode == 1, "row %d: %r" % (row, r)
    assert r.stderr.splitlines() == ["%s: %s" % (conf, message)], (
        "row %d: %r" % (row, r.stderr))


def test_good_configuration_is_ok(tmp_path, docroot):
    conf = write(str(tmp_path / "porch.conf"), base_lines(str(tmp_path), docroot) + [
        "# a comment", "", "workers 4   # trailing comment", "index index.html index.htm",
        "max_body_size 16M", "keepalive_timeout 0", "status_path off",
        "access_log off", "error_log stderr", "gzip_static off",
        "listen [::1]:%d" % free_port(), "user nobody",
    ])
    r = run_porch("-t", "-c", conf)
    assert (r.returncode, r.stdout, r.stderr) == (0, "configuration OK\n", "")


def test_every_mistake_in_a_file_is_reported(tmp_path, docroot):
    port = free_port()
    lines = [
        "listen 127.0.0.1:%d" % port,           # 1
        "listen 127.0.0.1:%d" % port,           # 2 duplicate
        "bogus 1",                              # 3
        "workers x",                            # 4
        "root /no/such/dir",                    # 5 (reported without a line)
        "# fine",                               # 6
        "max_body_size 1X",                     # 7
        "keepalive_timeout 5",                  # 8 fine
        "status_path foo",                      # 9
        "user nosuchuser",                      # 10 (reported without a line)
        "gzip_static maybe",                    # 11
    ]
    conf = write(str(tmp_path / "porch.conf"), lines)
    r = run_porch("-t", "-c", conf)
    assert r.returncode == 1
    got = r.stderr.splitlines()
    want = [
        '%s:2: listen: duplicate listener "127.0.0.1:%d"' % (conf, port),
        '%s:3: unknown directive "bogus"' % conf,
        '%s:4: workers: expected 1 to 64, got "x"' % conf,
        '%s:7: max_body_size: expected a size from 0 to 1099511627776 bytes, got "1X"' % conf,
        '%s:9: status_path: expected /PATH or off, got "foo"' % conf,
        '%s:11: gzip_static: expected on or off, got "maybe"' % conf,
        '%s: root: /no/such/dir: No such file or directory' % conf,
        '%s: user: no such user "nosuchuser"' % conf,
    ]
    assert got == want


def test_missing_config_file_is_one_clear_error(tmp_path):
    path = str(tmp_path / "nope.conf")
    r = run_porch("-t", "-c", path)
    assert r.returncode == 1
    # One mistake, one line: not also "no listener" and "root: /www" for the
    # defaults of a file that was never read.
    assert r.stderr.splitlines() == ["%s: No such file or directory" % path]


def test_command_line_errors_say_command_line(tmp_path, docroot):
    conf = write(str(tmp_path / "porch.conf"), base_lines(str(tmp_path), docroot))
    r = run_porch("-t", "-c", conf, "-o", "workers x", "-l", "bad", "-w", "0",
                  "-o", "frob 1", "-o", "status_path=foo")
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        'command line: workers: expected 1 to 64, got "x"',
        'command line: listen: expected ADDR:PORT, [IPV6]:PORT or PORT, got "bad"',
        'command line: workers: expected 1 to 64, got "0"',
        'command line: unknown directive "frob"',
        'command line: status_path: expected /PATH or off, got "foo"',
    ]


def test_command_line_root_override_is_checked(tmp_path, docroot):
    conf = write(str(tmp_path / "porch.conf"), base_lines(str(tmp_path), docroot))
    r = run_porch("-t", "-c", conf, "-r", "/no/such/root")
    assert r.returncode == 1
    assert r.stderr.splitlines() == [
        "%s: root: /no/such/root: No such file or directory" % conf]


def test_command_line_alone_is_a_configuration(docroot):
    r = run_porch("-t", "-l", "127.0.0.1:%d" % free_port(), "-r", docroot)
    assert (r.returncode, r.stdout) == (0, "configuration OK\n"), r.stderr


def test_command_line_overrides_the_file(porch, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "index.html").write_text("other root\n")
    (other / "start.txt").write_text("start page\n")
    extra = free_port()
    p = porch(conf_lines=["index index.html", "keepalive_requests 50"],
              args=["-w", "3", "-r", str(other), "-o", "index start.txt",
                    "-o", "keepalive_requests=7", "-l", "127.0.0.1:%d" % extra])
    p.wait_workers(3)
    r = exchange(p, get(path="/", extra="Connection: close\r\n"))[0]
    assert (r.status, r.body) == (200, b"start page\n")
    with p.connect() as s:
        s.sendall(get(path="/start.txt"))
        r = read_response(s)
    assert r.header("Keep-Alive") == "timeout=5, max=6"
    with socket.create_connection(("127.0.0.1", extra), 5) as s:
        s.sendall(get(path="/start.txt", extra="Connection: close\r\n"))
        r = parse_responses(recv_until_close(s))[0]
    assert (r.status, r.body) == (200, b"start page\n")
    assert len(p.workers()) == 3


def test_bad_config_refuses_to_start(tmp_path, docroot):
    conf = write(str(tmp_path / "porch.conf"),
                 base_lines(str(tmp_path), docroot) + ["allow_root on", "workers 0"])
    r = run_porch("-c", conf)
    assert r.returncode != 0
    assert r.stderr.splitlines() == ['%s:4: workers: expected 1 to 64, got "0"' % conf]


def test_port_in_use_is_one_line_and_nonzero(tmp_path, docroot):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        conf = write(str(tmp_path / "porch.conf"), [
            "listen 127.0.0.1:%d" % port, "root %s" % docroot, "allow_root on"])
        r = run_porch("-c", conf)
    assert r.returncode != 0
    lines = r.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "127.0.0.1:%d" % port in lines[0] and "in use" in lines[0]


def test_help_lists_the_directives():
    r = run_porch("-h")
    assert r.returncode == 0
    text = r.stdout + r.stderr
    # (tls_* and cgi* belong to the TLS and CGI work and are tested there)
    for name in ("listen", "root", "workers", "user", "group", "allow_root",
                 "index", "header_timeout", "keepalive_timeout",
                 "keepalive_requests", "io_timeout", "max_requests_per_worker",
                 "max_body_size", "auth", "status_path", "access_log",
                 "error_log", "pid_file", "stop_timeout", "pressure_grace",
                 "pressure_slice", "pressure_idle", "pressure_io",
                 "pressure_wait"):
        assert any(l.split()[:1] == [name] for l in text.splitlines()), name
