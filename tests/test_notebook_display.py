"""Solos and runs in a notebook: a scoped HTML fragment per solo, a short text form,
players that drive only their own piano roll, and a training cell that can run twice."""
import re

import pytest

import jazz_lstm
from jazz_lstm.api import Solo
from jazz_lstm.sampling import SampleSettings
from tests.page_helpers import Elements, _chromium, _song, needs_chromium

SMALL_PIECE = "music21:leadSheet/fosterBrownHair.mxl"


def solo(bars=2, title="Test solo"):
    return Solo(_song(bars, title), {}, f"{bars} bars, 7 notes", SampleSettings(seed=5), 0.9)


def style_selectors(fragment: str) -> list:
    """Every selector of every rule in the fragment's <style> elements."""
    css = "".join(re.findall(r"<style>(.*?)</style>", fragment, flags=re.S))
    return [selector.strip() for rule in css.split("}") if "{" in rule
            for selector in rule.split("{")[0].split(",")]


def test_the_html_repr_is_one_element_whose_styles_reach_nothing_outside_it():
    fragment = solo()._repr_html_()
    assert not re.search(r"<!DOCTYPE|<html|<head|<body|<main", fragment, flags=re.I)
    element_id = re.match(r'<div id="([\w-]+)"', fragment).group(1)
    assert fragment.rstrip().endswith("</div>")
    selectors = style_selectors(fragment)
    assert len(selectors) > 20
    outside = [selector for selector in selectors
               if not (selector == f"#{element_id}" or selector.startswith(f"#{element_id} "))]
    assert outside == []
    assert f"document.getElementById({element_id!r}".replace("'", '"') in fragment
    assert "document.querySelector(" not in fragment


def test_two_solos_get_two_ids():
    first, second = solo()._repr_html_(), solo()._repr_html_()
    ids = [re.match(r'<div id="([\w-]+)"', fragment).group(1) for fragment in (first, second)]
    assert ids[0] != ids[1]


def test_the_text_repr_is_one_short_line():
    text = repr(solo(8))
    assert "\n" not in text and len(text) < 200
    assert text.startswith("<Solo 'Test solo': 8 bars, 7 notes") and "seed 5" in text
    assert "temperature 0.9" in text and "132 bpm" in text


@pytest.mark.slow
@needs_chromium
def test_each_player_moves_only_its_own_playhead(tmp_path):
    # At 10 s and 132 bpm a solo is 22 quarters in: in its second row (quarters
    # 16-32).  Seeking the second solo's audio must leave the first roll alone.
    first, second = solo(8, "First")._repr_html_(), solo(8, "Second")._repr_html_()
    second_id = re.match(r'<div id="([\w-]+)"', second).group(1)
    seek = (f'<script>var audio = document.getElementById("{second_id}").querySelector("audio");'
            'Object.defineProperty(audio, "currentTime", {value: 10});'
            'audio.dispatchEvent(new Event("seeked"));</script>')
    page = tmp_path / "two.html"
    page.write_text(f"<!DOCTYPE html><html><body><h2>My practice notes</h2>{first}{second}"
                    f"{seek}</body></html>", encoding="utf-8")
    dom = _chromium("--dump-dom", page.as_uri(), profile=tmp_path / "profile").stdout
    playheads = [attrs.get("style") for tag, attrs in Elements(dom).tags
                 if tag == "line" and attrs.get("class") == "playhead"]
    assert playheads == [None, None, "visibility: hidden;", "visibility: visible;"]


def test_training_a_run_again_needs_overwrite_and_replaces_it(tmp_path):
    folder = tmp_path / "runs" / "demo"
    first = jazz_lstm.train(data=[SMALL_PIECE], epochs=1, hidden=4, seed=0, run_dir=folder,
                            progress=False)
    (folder / "evaluation.json").write_text("{}", encoding="utf-8")
    with pytest.raises(jazz_lstm.UsageError, match="overwrite=True"):
        jazz_lstm.train(data=[SMALL_PIECE], epochs=2, hidden=4, seed=0, run_dir=folder,
                        progress=False)
    assert first.record.epoch == 1
    again = jazz_lstm.train(data=[SMALL_PIECE], epochs=2, hidden=4, seed=0, run_dir=folder,
                            progress=False, overwrite=True)
    assert again.record.epoch == 2 and [row["epoch"] for row in again.history] == [1, 2]
    assert not (folder / "evaluation.json").exists()     # it described the replaced model


def test_a_run_trained_on_the_reference_backend_equals_the_default_one(tmp_path):
    runs = [jazz_lstm.train(data=[SMALL_PIECE], epochs=2, hidden=4, seed=0, progress=False,
                            run_dir=tmp_path / str(backend), backend=backend)
            for backend in ("reference", None)]
    losses = [[row["loss"] for row in run.history] for run in runs]
    assert losses[0] == pytest.approx(losses[1], abs=1e-5)     # float32: rounding apart
    with pytest.raises(ValueError, match="backend must be one of"):
        jazz_lstm.train(data=[SMALL_PIECE], epochs=1, hidden=4, progress=False,
                        run_dir=tmp_path / "bad", backend="cuda")
