"""`download`: a data set fetched from a local HTTP server (no test reaches the internet)."""
import hashlib
import http.server
import threading

import pytest

from jazz_lstm import download as downloads
from jazz_lstm.cli import main

PAYLOAD = bytes(range(256)) * 4000          # 1 MB, several read chunks
OTHER = b"not the database" * 1000


class Handler(http.server.BaseHTTPRequestHandler):
    requests = []

    def do_GET(self):   # the name http.server calls
        Handler.requests.append(self.path)
        if self.path == "/wjazzd.db":
            self._send(200, PAYLOAD)
        elif self.path == "/other.db":
            self._send(200, OTHER)
        elif self.path == "/cut.db":
            # Announces the whole file, sends a third, hangs up.
            self.send_response(200)
            self.send_header("Content-Length", str(len(PAYLOAD)))
            self.end_headers()
            self.wfile.write(PAYLOAD[:len(PAYLOAD) // 3])
            self.close_connection = True
        elif self.path == "/broken.db":
            self._send(500, b"oops")
        else:
            self._send(404, b"no such file")

    def _send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Handler.requests = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


@pytest.fixture
def local_wjazzd(server, monkeypatch, tmp_path):
    """DATASETS["wjazzd"] pointing at the local server with the test payload's
    checksum (worked out here with hashlib, not by the code under test), and
    the cache folder in tmp_path."""
    monkeypatch.setitem(downloads.DATASETS, "wjazzd", downloads.DATASETS["wjazzd"]._replace(
        url=f"{server}/wjazzd.db", sha256=hashlib.sha256(PAYLOAD).hexdigest()))
    monkeypatch.setenv("JAZZ_LSTM_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "downloads" / "wjazzd.db"


def run(capsys, *args):
    status = main(["download", "wjazzd", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_one_error_line(status, err, *fragments):
    assert status == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: wjazzd: "), err
    for fragment in fragments:
        assert fragment in lines[0]


def leftovers(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_download_into_the_cache_folder_then_nothing_to_do(local_wjazzd, capsys):
    status, out, _ = run(capsys)
    assert status == 0
    assert local_wjazzd.read_bytes() == PAYLOAD
    assert f"wrote {local_wjazzd} (1,024,000 bytes, SHA-256 checked)" in out
    assert "ODbL" in out
    assert Handler.requests == ["/wjazzd.db"]

    status, out, _ = run(capsys)
    assert status == 0
    assert "already there" in out and "nothing to do" in out
    assert Handler.requests == ["/wjazzd.db"]          # the second run asked nothing
    assert leftovers(local_wjazzd.parent) == ["wjazzd.db"]


def test_folder_and_mirror_options(local_wjazzd, server, capsys, tmp_path):
    status, out, _ = run(capsys, "--folder", str(tmp_path / "data"), "--url",
                         f"{server}/wjazzd.db")
    assert status == 0
    assert (tmp_path / "data" / "wjazzd.db").read_bytes() == PAYLOAD
    assert not local_wjazzd.exists()


def test_a_damaged_file_is_fetched_again(local_wjazzd, capsys):
    local_wjazzd.parent.mkdir(parents=True)
    local_wjazzd.write_bytes(PAYLOAD[:-1] + b"!")
    status, out, _ = run(capsys)
    assert status == 0 and "wrote" in out
    assert local_wjazzd.read_bytes() == PAYLOAD


@pytest.mark.parametrize("path, fragments", [
    ("/other.db", ["16,000 bytes", f"has SHA-256 {hashlib.sha256(OTHER).hexdigest()}",
                   "not the expected", "nothing was saved"]),
    ("/cut.db", ["nothing was saved"]),
    ("/broken.db", ["500", "nothing was saved"]),
    ("/missing.db", ["404", "nothing was saved"]),
])
def test_bad_downloads_are_refused_with_one_line(local_wjazzd, server, capsys, path, fragments):
    status, out, err = run(capsys, "--url", server + path)
    assert_one_error_line(status, err, server + path, *fragments)
    assert leftovers(local_wjazzd.parent) == []         # no file, no temporary file


def test_the_expected_size_is_checked(local_wjazzd, capsys, monkeypatch):
    monkeypatch.setitem(downloads.DATASETS, "wjazzd",
                        downloads.DATASETS["wjazzd"]._replace(size=len(PAYLOAD) + 1))
    status, _, err = run(capsys)
    assert_one_error_line(status, err, "gave 1,024,000 bytes, not the expected 1,024,001")
    assert leftovers(local_wjazzd.parent) == []


def test_a_refused_download_leaves_the_file_before_it(local_wjazzd, server, capsys):
    local_wjazzd.parent.mkdir(parents=True)
    local_wjazzd.write_bytes(b"an older copy")
    status, _, err = run(capsys, "--url", f"{server}/cut.db")
    assert_one_error_line(status, err, "nothing was saved")
    assert local_wjazzd.read_bytes() == b"an older copy"
    assert leftovers(local_wjazzd.parent) == ["wjazzd.db"]


def test_a_server_that_is_not_there(local_wjazzd, capsys):
    # A port that was free a moment ago: nothing listens there.
    probe = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    port = probe.server_address[1]
    probe.server_close()
    status, _, err = run(capsys, "--url", f"http://127.0.0.1:{port}/wjazzd.db")
    assert_one_error_line(status, err, "cannot reach", "nothing was saved")


def test_progress_reaches_the_whole_file(local_wjazzd):
    seen = []
    fetched = downloads.download("wjazzd", progress=lambda done, total: seen.append((done, total)))
    assert fetched.downloaded and fetched.size == len(PAYLOAD)
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and len(seen) > 1
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_the_official_entry_is_the_reported_release():
    wjazzd = downloads.DATASETS["wjazzd"]
    assert wjazzd.url == "https://jazzomat.hfm-weimar.de/download/downloads/wjazzd.db"
    assert wjazzd.sha256 == "af6a0d9debf042c3581565bd75baad591d32e166cd2ec7298519883de614bf12"


def test_a_terminal_sees_a_progress_bar(local_wjazzd, monkeypatch, capsys):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["download", "wjazzd"]) == 0
    assert "100%" in terminal.getvalue() and "1.02M/1.02M" in terminal.getvalue()
