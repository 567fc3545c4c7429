"""Public data sets in one command: ``jazz-lstm download wjazzd``.

``DATASETS`` names each data set with its official address, file name and
the SHA-256 (and, where known, the size in bytes) of the release this
project reads; a new release is a new entry there, nothing else.

``download`` puts the file in ``<folder>/<file name>``; the folder is the
one given, else ``downloads/`` in the cache folder (``$JAZZ_LSTM_CACHE``,
else ``~/.cache/jazz-lstm``).  A file already there with the right SHA-256
is kept without touching the network.  Otherwise the file is streamed into
a temporary file beside the target (``music.files.atomic_writer``) and
only renamed into place once every byte has arrived (as many as the
server's Content-Length and the expected size say) and its SHA-256 is the
expected one.  A cut, a wrong checksum, a server error or Ctrl-C leaves
nothing behind and raises ``DownloadError`` with one line saying what
happened; any file that was there before stays as it was.
"""
from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

from music.files import atomic_writer
from music.read.cache import default_cache_dir

DOWNLOADS_FOLDER = "downloads"
CHUNK_BYTES = 1 << 16
TIMEOUT_SECONDS = 60


class Dataset(NamedTuple):
    """A file to fetch and how to recognise the right one.

    size: bytes, or None where the release's size is not known (then only
          the server's Content-Length and the SHA-256 are checked)
    """

    url: str
    file_name: str
    sha256: str
    size: int | None
    description: str
    notice: str


DATASETS = {
    # The checksum is that reported for release 2.1 (database 2.2, 456 solos); its
    # exact size in bytes was not published where it was reported ("42.5 MB").
    "wjazzd": Dataset(
        url="https://jazzomat.hfm-weimar.de/download/downloads/wjazzd.db",
        file_name="wjazzd.db",
        sha256="af6a0d9debf042c3581565bd75baad591d32e166cd2ec7298519883de614bf12",
        size=None,
        description="the Weimar Jazz Database 2.2 (release 2.1): 456 transcribed solos, "
                    "one SQLite file",
        notice="The Weimar Jazz Database is made available under the Open Database License "
               "(ODbL 1.0); its contents under the Database Contents License (DbCL 1.0)."),
}


class DownloadError(OSError):
    """A download that did not give the expected file; the message is one line."""


class Fetched(NamedTuple):
    """Where the file is, its size, and whether this call downloaded it."""

    path: Path
    size: int
    downloaded: bool


def default_download_folder() -> Path:
    return default_cache_dir() / DOWNLOADS_FOLDER


def download(name: str, folder=None, *, url: str | None = None, progress=None) -> Fetched:
    """Fetch data set ``name`` of ``DATASETS`` into ``folder`` (see the module
    docstring); ``url`` replaces the official address (a mirror; the checksum
    stays).  ``progress(done_bytes, total_bytes or None)`` is called as bytes
    arrive.  Raises DownloadError, KeyError for an unknown name."""
    dataset = DATASETS[name]
    target = Path(folder if folder is not None else default_download_folder()) / dataset.file_name
    if target.is_file() and _sha256_of(target) == dataset.sha256:
        return Fetched(target, target.stat().st_size, downloaded=False)
    source = url or dataset.url
    try:
        with urllib.request.urlopen(source, timeout=TIMEOUT_SECONDS) as response:
            announced = response.headers.get("Content-Length")
            expected = dataset.size if dataset.size is not None else (
                int(announced) if announced and announced.isdigit() else None)
            with atomic_writer(target) as file:
                size, digest = _copy(response, file, expected, progress)
                _check(name, dataset, source, size, expected, digest)
    except urllib.error.HTTPError as error:
        raise DownloadError(f"{name}: the server answered {error.code} {error.reason} for "
                            f"{source}; nothing was saved") from None
    except urllib.error.URLError as error:
        raise DownloadError(f"{name}: cannot reach {source} ({error.reason}); nothing was "
                            "saved") from None
    except (http.client.HTTPException, TimeoutError, ConnectionError) as error:
        raise DownloadError(f"{name}: the download from {source} broke off "
                            f"({type(error).__name__}); nothing was saved") from None
    return Fetched(target, size, downloaded=True)


def _copy(response, file, expected, progress) -> tuple:
    """(bytes copied, sha256 hex) of the response body written to file."""
    digest = hashlib.sha256()
    size = 0
    while chunk := response.read(CHUNK_BYTES):
        file.write(chunk)
        digest.update(chunk)
        size += len(chunk)
        if progress is not None:
            progress(size, expected)
    return size, digest.hexdigest()


def _check(name, dataset, source, size, expected, digest) -> None:
    if expected is not None and size != expected:
        raise DownloadError(f"{name}: the download from {source} gave {size:,} bytes, not "
                            f"the expected {expected:,}; nothing was saved")
    if digest != dataset.sha256:
        raise DownloadError(f"{name}: the file from {source} ({size:,} bytes) has SHA-256 "
                            f"{digest}, not the expected {dataset.sha256}; nothing was saved")


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
