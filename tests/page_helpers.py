"""An HTML parser, a two-bar solo and headless Chromium, shared by the tests of the pages."""
import shutil
import subprocess
from fractions import Fraction
from html.parser import HTMLParser

import pytest

from music.chords import make_chord
from music.song import Measure, Note, Song


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class Elements(HTMLParser):
    """Every start tag as (tag, attributes), and the text inside th/td cells."""

    def __init__(self, text):
        super().__init__()
        self.tags, self.cells, self._in_cell = [], [], False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_cell = tag in ("th", "td")

    def handle_endtag(self, tag):
        self._in_cell = False

    def handle_data(self, data):
        if self._in_cell:
            self.cells.append(data)

    def with_class(self, name):
        return [attrs for tag, attrs in self.tags if name in attrs.get("class", "").split()]


def _song(bars=2, title="Test solo"):
    """Bar 1 over C: C4 D4 Eb4 Bb4 (chord, scale, approach, other under C E G
    with Lydian C D E F# G A B: Bb's neighbours A and B are no chord tones);
    bar 2 over G7: G4, a rest, A4 (G B D F, Mixolydian G A B C D E F: chord,
    then scale).  More bars repeat bar 2."""
    first = Measure(4, [Note(0, 1, 60), Note(1, 1, 62), Note(2, 1, 63), Note(3, 1, 70)],
                    [make_chord("C", 0, 4)], number=1)
    other = Measure(4, [Note(0, Fraction(1, 2), 67), Note(Fraction(1, 2), Fraction(1, 2), None),
                        Note(1, 3, 69)], [make_chord("G7", 0, 4)], number=2)
    return Song(measures=[first] + [other] * (bars - 1), tempo=132, title=title)


def _chromium(*arguments, profile):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                           *arguments], check=True, capture_output=True, text=True, timeout=120)


needs_chromium = pytest.mark.skipif(
    not shutil.which(CHROMIUM),
    reason="Chromium is not installed (apt-get install chromium), so pages are not rendered")


def _distinct_colours(png_path):
    image = pytest.importorskip("PIL.Image").open(png_path).convert("RGB")
    return {colour for _, colour in image.getcolors(maxcolors=1 << 24)}
