"""WAV output: the NumPy synthesizer and the fluidsynth command line (with a fake fluidsynth)."""
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
import wave
from fractions import Fraction as F
from pathlib import Path

import mido
import numpy as np
import pytest

from music.write import wav as synth
from music.song import Chord, Measure, MusicError, Note, Song
from music.write.wav import pitch_to_hertz, render_wav

pytestmark = pytest.mark.bounded   # issue 22: within 60 s and 1.5 GB (tests/bounds.py)

RATE = 22050
# The numpy engine adds a release tail after the last written end; the module
# documents it as RELEASE_SECONDS (0.06 s).  The tests allow up to 0.1 s.
TAIL_TOLERANCE_SECONDS = 0.1


def one_note_song(pitch=69, tempo=120):
    """One 4/4 bar holding a single whole note: 2 seconds at 120 bpm."""
    return Song([Measure(4, [Note(0, 4, pitch)])], tempo=tempo)


def busy_song():
    """Two bars of loud eighths and triplets over four-note chords."""
    eighths = [Note(F(i, 2), F(1, 2), 60 + (7 * i) % 24, velocity=127) for i in range(8)]
    triplets = [Note(F(i, 3), F(1, 3), 84 - i, velocity=127) for i in range(12)]
    chords = [Chord(0, 2, 2, (0, 2, 5, 9)), Chord(2, 2, 7, (2, 5, 7, 11))]
    return Song([Measure(4, eighths, chords), Measure(4, triplets, [Chord(0, 4, 0, (0, 4, 7, 11))])],
                tempo=160)


def read_wav(path):
    with wave.open(str(path), "rb") as wav:
        params = wav.getparams()
        samples = np.frombuffer(wav.readframes(params.nframes), dtype="<i2")
    return params, samples


def test_pitch_to_hertz_is_equal_tempered_from_a440():
    assert pitch_to_hertz(69) == pytest.approx(440.0)
    assert pitch_to_hertz(81) == pytest.approx(880.0)
    assert pitch_to_hertz(60) == pytest.approx(261.6256, abs=1e-3)


def test_wav_is_16_bit_mono_and_lasts_the_song(tmp_path):
    params, samples = read_wav(render_wav(one_note_song(), tmp_path / "a.wav", engine="numpy"))
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, RATE)
    assert 2.0 * RATE <= params.nframes <= (2.0 + TAIL_TOLERANCE_SECONDS) * RATE


def test_tempo_option_sets_the_length(tmp_path):
    params, _ = read_wav(render_wav(one_note_song(tempo=120), tmp_path / "a.wav",
                                    tempo=60, engine="numpy"))
    assert 4.0 * RATE <= params.nframes <= (4.0 + TAIL_TOLERANCE_SECONDS) * RATE


def test_sample_rate_option(tmp_path):
    params, _ = read_wav(render_wav(one_note_song(), tmp_path / "a.wav", sample_rate=8000,
                                    engine="numpy"))
    assert params.framerate == 8000
    assert 2.0 * 8000 <= params.nframes <= (2.0 + TAIL_TOLERANCE_SECONDS) * 8000


def test_sound_is_loud_enough_and_never_clips(tmp_path):
    _, samples = read_wav(render_wav(busy_song(), tmp_path / "busy.wav", engine="numpy"))
    level = samples.astype(float) / 32768
    assert np.sqrt(np.mean(level ** 2)) > 0.05
    assert np.max(np.abs(samples)) < 32767 * 0.95
    assert np.max(np.abs(samples)) > 32767 * 0.5


@pytest.mark.parametrize("pitch, hertz", [(69, 440.0), (81, 880.0), (57, 220.0), (60, 261.63)])
def test_spectrum_peaks_at_the_note_frequency(tmp_path, pitch, hertz):
    _, samples = read_wav(render_wav(one_note_song(pitch), tmp_path / "a.wav", engine="numpy"))
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    frequencies = np.fft.rfftfreq(len(samples), d=1 / RATE)
    assert frequencies[np.argmax(spectrum)] == pytest.approx(hertz, abs=1.0)


def test_chord_tones_are_heard(tmp_path):
    c_major = Song([Measure(4, chords=[Chord(0, 4, 0, (0, 4, 7))])], tempo=120)
    _, samples = read_wav(render_wav(c_major, tmp_path / "c.wav", engine="numpy"))
    spectrum = np.abs(np.fft.rfft(samples))
    frequencies = np.fft.rfftfreq(len(samples), d=1 / RATE)
    strongest = {round(f) for f in frequencies[np.argsort(spectrum)[-40:]]}
    for voiced in (130.81, 329.63, 392.0):  # C3 bass, E4, G4
        assert any(abs(f - voiced) <= 2 for f in strongest), voiced


def test_notes_start_and_end_without_clicks(tmp_path):
    _, samples = read_wav(render_wav(one_note_song(), tmp_path / "a.wav", engine="numpy"))
    assert abs(int(samples[0])) < 100
    assert np.max(np.abs(samples[-20:])) < 300
    # the first millisecond is still fading in, well below the peak
    assert np.max(np.abs(samples[:RATE // 1000])) < 0.3 * np.max(np.abs(samples))


def test_rests_and_gaps_are_silent(tmp_path):
    song = Song([Measure(4, [Note(0, 1, 69), Note(1, 1, None)]), Measure(4)], tempo=120)
    _, samples = read_wav(render_wav(song, tmp_path / "a.wav", engine="numpy"))
    # the second bar (2..4 s) is silent; the first note rang from 0 to 0.5 s
    assert np.max(np.abs(samples[2 * RATE:4 * RATE])) == 0
    assert np.max(np.abs(samples[: RATE // 2])) > 10000


def test_all_rest_song_gives_a_silent_wav_of_the_right_length(tmp_path):
    params, samples = read_wav(render_wav(Song([Measure(4, [Note(0, 4, None)])], tempo=120),
                                          tmp_path / "quiet.wav", engine="numpy"))
    assert 2.0 * RATE <= params.nframes <= (2.0 + TAIL_TOLERANCE_SECONDS) * RATE
    assert not samples.any()


def test_same_song_gives_identical_wav_bytes(tmp_path):
    first = render_wav(busy_song(), tmp_path / "1.wav", engine="numpy").read_bytes()
    second = render_wav(busy_song(), tmp_path / "2.wav", engine="numpy").read_bytes()
    assert first == second


def test_write_creates_folders_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "out" / "solo.wav"
    assert render_wav(one_note_song(), target, engine="numpy") == target
    assert os.listdir(target.parent) == ["solo.wav"]


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "solo.wav"
    target.write_bytes(b"previous take")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        render_wav(one_note_song(), target, engine="numpy")
    assert target.read_bytes() == b"previous take"
    assert os.listdir(tmp_path) == ["solo.wav"]


@pytest.mark.parametrize("options", [{"engine": "timidity"}, {"sample_rate": 10}])
def test_bad_options_raise_music_error(tmp_path, options):
    with pytest.raises(MusicError):
        render_wav(one_note_song(), tmp_path / "a.wav", **options)


# ---- fluidsynth, played by a fake program on PATH -------------------------

FAKE_FLUIDSYNTH = """#!{python}
import json, math, os, shutil, sys, time, wave
import mido
arguments = sys.argv[1:]
record = os.environ["FAKE_FLUIDSYNTH_RECORD"]
with open(record, "w") as handle:
    json.dump(arguments, handle)
shutil.copy(arguments[-1], record + ".mid")
mode = os.environ.get("FAKE_FLUIDSYNTH_MODE", "")
if mode == "fail":
    print("fluidsynth: error: Failed to load SoundFont", file=sys.stderr)
    sys.exit(1)
output, rate = arguments[arguments.index("-F") + 1], int(arguments[arguments.index("-r") + 1])
frames = math.ceil(mido.MidiFile(arguments[-1]).length * rate) + FAKE_TAIL_FRAMES
with wave.open(output, "wb") as wav:
    wav.setnchannels(2)
    wav.setsampwidth(2)
    wav.setframerate(rate)
    if mode == "disk-full":       # the header promises every frame, the disk took 100 kB
        wav.writeframes(bytes(4 * frames))
    elif mode == "hang":          # writes for ever until killed
        with open(record + ".pid", "w") as handle:
            handle.write(str(os.getpid()))
        while True:
            wav.writeframesraw(bytes(4 * 100))
            time.sleep(0.01)
    else:
        wav.writeframes(bytes(4 * frames))
if mode == "disk-full":
    os.truncate(output, 102400)
""".replace("FAKE_TAIL_FRAMES", "100")
FAKE_TAIL_FRAMES = 100


@pytest.fixture
def fake_fluidsynth(tmp_path, monkeypatch):
    """A fake fluidsynth first on PATH; returns the file it records its arguments in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "fluidsynth"
    program.write_text(FAKE_FLUIDSYNTH.format(python=sys.executable))
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    record = tmp_path / "fluidsynth-arguments.json"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_FLUIDSYNTH_RECORD", str(record))
    return record


@pytest.fixture
def soundfont(tmp_path, monkeypatch):
    font = tmp_path / "fonts" / "GeneralUser.sf2"
    font.parent.mkdir()
    font.write_bytes(b"RIFF not really a soundfont")
    monkeypatch.setenv("JAZZ_LSTM_SOUNDFONT", str(font))
    return font


@pytest.fixture
def no_fluidsynth(tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def no_system_soundfonts(monkeypatch):
    monkeypatch.setattr(synth, "SOUNDFONT_PLACES", ())
    monkeypatch.delenv("JAZZ_LSTM_SOUNDFONT", raising=False)


def test_fluidsynth_command_line(tmp_path, fake_fluidsynth, soundfont):
    target = tmp_path / "songs" / "solo.wav"
    assert render_wav(one_note_song(), target, engine="fluidsynth", sample_rate=44100) == target

    arguments = json.loads(fake_fluidsynth.read_text())
    assert arguments[:arguments.index("-F")] == ["-ni", "-r", "44100", "-T", "wav", "-O", "s16"]
    assert arguments[-2] == str(soundfont)
    # it writes a temporary file beside the target, which a later start cleans when left
    assert Path(arguments[arguments.index("-F") + 1]).parent == target.parent
    assert ".jazz-lstm-tmp-" in arguments[arguments.index("-F") + 1]
    # what fluidsynth wrote is what ends up at the target, and nothing else is left over
    params, _ = read_wav(target)
    assert (params.nchannels, params.framerate, params.nframes) == (2, 44100,
                                                                    2 * 44100 + FAKE_TAIL_FRAMES)
    assert os.listdir(target.parent) == ["solo.wav"]


def test_fluidsynth_is_given_the_songs_midi(tmp_path, fake_fluidsynth, soundfont):
    render_wav(one_note_song(pitch=65, tempo=100), tmp_path / "solo.wav", engine="fluidsynth",
               tempo=150)
    midi = mido.MidiFile(str(fake_fluidsynth) + ".mid")
    pitches = [m.note for m in midi.tracks[1] if m.type == "note_on"]
    tempos = [m.tempo for m in midi.tracks[0] if m.type == "set_tempo"]
    assert pitches == [65]
    assert tempos == [400_000]  # 150 bpm, the override


def test_soundfont_argument_beats_the_environment(tmp_path, fake_fluidsynth, soundfont):
    other = tmp_path / "other.sf2"
    other.write_bytes(b"RIFF")
    render_wav(one_note_song(), tmp_path / "solo.wav", engine="fluidsynth", soundfont=other)
    assert json.loads(fake_fluidsynth.read_text())[-2] == str(other)


def test_auto_prefers_fluidsynth_when_available(tmp_path, fake_fluidsynth, soundfont):
    render_wav(one_note_song(), tmp_path / "solo.wav")
    assert fake_fluidsynth.exists()


def test_auto_falls_back_to_numpy_without_a_soundfont(tmp_path, fake_fluidsynth,
                                                      no_system_soundfonts):
    params, _ = read_wav(render_wav(one_note_song(), tmp_path / "solo.wav"))
    assert not fake_fluidsynth.exists()
    assert params.nchannels == 1


def test_auto_falls_back_to_numpy_without_the_program(tmp_path, no_fluidsynth, soundfont):
    params, _ = read_wav(render_wav(one_note_song(), tmp_path / "solo.wav"))
    assert params.nchannels == 1


def test_fluidsynth_engine_without_the_program_is_one_clear_error(tmp_path, no_fluidsynth,
                                                                  soundfont):
    with pytest.raises(MusicError) as error:
        render_wav(one_note_song(), tmp_path / "solo.wav", engine="fluidsynth")
    message = str(error.value)
    assert "fluidsynth" in message and "\n" not in message
    assert not (tmp_path / "solo.wav").exists()


def test_fluidsynth_engine_without_a_soundfont_is_an_error(tmp_path, fake_fluidsynth,
                                                           no_system_soundfonts):
    with pytest.raises(MusicError, match="SoundFont"):
        render_wav(one_note_song(), tmp_path / "solo.wav", engine="fluidsynth")


def test_missing_named_soundfont_is_an_error(tmp_path, fake_fluidsynth, monkeypatch):
    monkeypatch.setenv("JAZZ_LSTM_SOUNDFONT", str(tmp_path / "nowhere.sf2"))
    with pytest.raises(MusicError, match="nowhere.sf2"):
        render_wav(one_note_song(), tmp_path / "solo.wav")


def test_fluidsynth_failure_reports_its_message_and_keeps_the_old_file(
        tmp_path, fake_fluidsynth, soundfont, monkeypatch):
    target = tmp_path / "solo.wav"
    target.write_bytes(b"previous take")
    monkeypatch.setenv("FAKE_FLUIDSYNTH_MODE", "fail")
    with pytest.raises(MusicError, match="exit status 1 .*Failed to load SoundFont") as error:
        render_wav(one_note_song(), target, engine="fluidsynth")
    assert "\n" not in str(error.value)
    assert target.read_bytes() == b"previous take"
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["solo.wav", "bin", "fonts", "fluidsynth-arguments.json", "fluidsynth-arguments.json.mid"])


def test_a_wav_cut_short_by_a_full_disk_is_refused_though_fluidsynth_says_0(
        tmp_path, fake_fluidsynth, soundfont, monkeypatch):
    target = tmp_path / "solo.wav"
    target.write_bytes(b"previous take")
    monkeypatch.setenv("FAKE_FLUIDSYNTH_MODE", "disk-full")
    with pytest.raises(MusicError, match=r"solo.wav: its WAV file is cut short "
                                         r"\(102,400 bytes for 44,200 frames\)") as error:
        render_wav(one_note_song(), target, engine="fluidsynth")
    assert "\n" not in str(error.value)
    assert target.read_bytes() == b"previous take"
    assert not [name for name in os.listdir(tmp_path) if "tmp" in name]


def test_sigterm_while_fluidsynth_renders_kills_it_and_leaves_nothing(tmp_path, fake_fluidsynth,
                                                                      soundfont, monkeypatch):
    """The command line: status 130, "interrupted", fluidsynth gone, no temporary file."""
    from tests.test_cli import CLI

    monkeypatch.setenv("FAKE_FLUIDSYNTH_MODE", "hang")
    monkeypatch.chdir(tmp_path)
    # main() of the command line around a render (a command standing in for sample)
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "import jazz_lstm.cli as cli; from tests.test_synth import one_note_song; "
         "from music.write.wav import render_wav; "
         "cli.command_progressions = lambda args: bool(render_wav(one_note_song(), "
         "'solo.wav', engine='fluidsynth')); sys.exit(cli.main(['progressions']))",
         str(CLI.parent)], cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    renderer = renderer_pid(fake_fluidsynth, process)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    assert stderr.strip() == "interrupted"
    with pytest.raises(ProcessLookupError):
        os.kill(renderer, 0)
    assert not [name for name in os.listdir(tmp_path) if "tmp" in name or name == "solo.wav"]


def test_kill_9_while_fluidsynth_renders_takes_it_along_and_a_later_start_cleans_up(
        tmp_path, fake_fluidsynth, soundfont, monkeypatch):
    """kill -9 cannot be handled: fluidsynth dies with the command (PR_SET_PDEATHSIG), and
    the temporary files left beside the target go at the next start in that folder."""
    from music.files import clean_stale_temp_files

    monkeypatch.setenv("FAKE_FLUIDSYNTH_MODE", "hang")
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
         "from tests.test_synth import one_note_song; from music.write.wav import render_wav; "
         "render_wav(one_note_song(), 'solo.wav', engine='fluidsynth')",
         str(Path(__file__).resolve().parents[1])], cwd=tmp_path)
    renderer = renderer_pid(fake_fluidsynth, process)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    deadline = time.monotonic() + 10
    while Path(f"/proc/{renderer}").exists() and "Z" not in _state(renderer):
        assert time.monotonic() < deadline, "fluidsynth outlived the command"
        time.sleep(0.05)
    left = [name for name in os.listdir(tmp_path) if "jazz-lstm-tmp" in name]
    assert len(left) == 2 and not (tmp_path / "solo.wav").exists()    # the MIDI and the WAV
    assert sorted(path.name for path in clean_stale_temp_files(tmp_path)) == sorted(left)
    assert not [name for name in os.listdir(tmp_path) if "jazz-lstm-tmp" in name]


def renderer_pid(fake_fluidsynth, process) -> int:
    """The pid the fake fluidsynth writes once it renders, waited for up to 60 s."""
    pid_file = Path(str(fake_fluidsynth) + ".pid")
    deadline = time.monotonic() + 60
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline and process.poll() is None
        time.sleep(0.05)
    return int(pid_file.read_text())


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


def test_a_wav_over_the_length_limit_is_refused_before_fluidsynth_runs(
        tmp_path, fake_fluidsynth, soundfont):
    long_song = Song([Measure(4, [Note(0, 4, 60)])] * 1000, tempo=20)  # 200 minutes
    with pytest.raises(MusicError, match="200.0 minutes; a WAV file holds at most 30"):
        render_wav(long_song, tmp_path / "solo.wav", engine="fluidsynth")
    assert not fake_fluidsynth.exists()
    assert not (tmp_path / "solo.wav").exists()


# ---- the band in the numpy synthesizer ------------------------------------

def chords_only_song(bars=2, tempo=120):
    """Bars of Cmaj7 and no melody: whatever sounds is the band."""
    return Song([Measure(4, chords=[Chord(0, 4, 0, (0, 4, 7, 11))]) for _ in range(bars)],
                tempo=tempo)


def band_energy(samples, low_hz, high_hz):
    spectrum = np.abs(np.fft.rfft(samples.astype(float))) ** 2
    frequencies = np.fft.rfftfreq(len(samples), d=1 / RATE)
    return spectrum[(frequencies >= low_hz) & (frequencies < high_hz)].sum() / spectrum.sum()


def test_trio_adds_a_bass_and_cymbals_to_the_mix(tmp_path):
    _, comp = read_wav(render_wav(chords_only_song(), tmp_path / "c.wav", engine="numpy",
                                  band="comp"))
    _, trio = read_wav(render_wav(chords_only_song(), tmp_path / "t.wav", engine="numpy",
                                  band="trio"))
    # the walking bass lives below 120 Hz (E1..D3 fundamentals), the comping above
    assert band_energy(comp, 20, 120) < 0.01 < band_energy(trio, 20, 120)
    # the ride and hi-hat noise reaches far above anything the piano plays
    assert band_energy(comp, 5000, RATE / 2) < 1e-4 < band_energy(trio, 5000, RATE / 2)


def test_the_wav_is_swung_like_the_midi(tmp_path):
    # one off-beat eighth: at 120 bpm the beat lasts 0.5 s; swing 2 puts it at 2/3 of it
    song = Song([Measure(1, [Note(F(1, 2), F(1, 2), 69)])], tempo=120)
    for swing, onset_seconds in ((1, 0.25), (2, 1 / 3)):
        _, samples = read_wav(render_wav(song, tmp_path / "s.wav", engine="numpy", swing=swing))
        first_sound = np.flatnonzero(samples)[0] / RATE
        assert first_sound == pytest.approx(onset_seconds, abs=1.5 / RATE)


def test_a_ringing_cymbal_fades_out_at_the_end_of_the_file(tmp_path):
    _, samples = read_wav(render_wav(chords_only_song(), tmp_path / "t.wav", engine="numpy",
                                     band="trio"))
    # unfaded, the cymbal would still be at about 200 here
    assert np.max(np.abs(samples[-20:])) < 30
    assert np.max(np.abs(samples[-RATE // 4:])) > 1000  # the last beat still rings until then


def test_band_renders_are_byte_identical(tmp_path):
    first = render_wav(chords_only_song(), tmp_path / "1.wav", engine="numpy", band="trio",
                       seed=4).read_bytes()
    second = render_wav(chords_only_song(), tmp_path / "2.wav", engine="numpy", band="trio",
                        seed=4).read_bytes()
    assert first == second


def test_notes_are_rendered_in_chunks_without_seams(monkeypatch):
    whole = synth.render_samples(busy_song(), band="trio")
    monkeypatch.setattr(synth, "CHUNK_SAMPLES", 1000)
    chunked = synth.render_samples(busy_song(), band="trio")
    assert whole.dtype == np.float32
    np.testing.assert_array_equal(whole, chunked)


def test_songs_longer_than_the_limit_are_refused_before_any_work(tmp_path, monkeypatch):
    # 4000 quarters at 120 bpm: 2000 s, past the 30-minute limit
    long_song = Song([Measure(4000, [Note(0, 4000, 60)])], tempo=120, title="marathon")
    monkeypatch.setattr(np, "zeros", None)  # allocating the mix would now fail loudly
    with pytest.raises(MusicError, match="marathon lasts 33.3 minutes.*at most 30 minutes"):
        render_wav(long_song, tmp_path / "long.wav", engine="numpy")
    assert not (tmp_path / "long.wav").exists()


def test_a_long_held_note_stops_ringing(tmp_path):
    # a plucked note written 20 s long dies away; after RING_DECAYS decay times it is cut
    song = Song([Measure(40, [Note(0, 40, 69)])], tempo=120)
    _, samples = read_wav(render_wav(song, tmp_path / "a.wav", engine="numpy", sample_rate=8000))
    ring = synth.RING_DECAYS * synth.MELODY_DECAY_SECONDS + synth.RELEASE_SECONDS
    assert not samples[int((ring + 0.01) * 8000):].any()
    assert samples[:8000].any()


# ---- the real fluidsynth, where it is installed ---------------------------

REAL_SOUNDFONT = next((place for place in synth.SOUNDFONT_PLACES if place.is_file()), None)


@pytest.mark.skipif(shutil.which("fluidsynth") is None or REAL_SOUNDFONT is None,
                    reason="fluidsynth or a General MIDI SoundFont is not installed "
                           "(apt-get install fluidsynth timgm6mb-soundfont)")
def test_real_fluidsynth_plays_the_trio(tmp_path):
    small = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")
    font = small if small.is_file() else REAL_SOUNDFONT
    song = chords_only_song(bars=1)   # 2 s at 120 bpm
    params, samples = read_wav(render_wav(song, tmp_path / "trio.wav", engine="fluidsynth",
                                          soundfont=font, band="trio"))
    assert params.nchannels == 2 and params.framerate == RATE
    assert params.nframes >= 2 * RATE
    assert np.abs(samples[: 2 * RATE * 2]).max() > 1000   # the band is heard
