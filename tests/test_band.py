"""The combo: metre, swing, dynamics, voicings, walking bass, comping, drums, arrange()."""
import io
from fractions import Fraction as F

import mido
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from music.band.arrange import COMBO_OPTIONS, arrange
from music.chords import make_chord, parse_progression
from music.band.comping import comp_sounds
from music.band.dynamics import melody_velocities
from music.metre import bar_pulses, group_sizes, song_beats
from music.write.midi import song_to_midi_bytes
from music.performance import Part, Sound
from music.song import Chord, Measure, MusicError, Note, Song
from music.band.swing import checked_swing, swing_sounds
from music.band.voicing import COMP_LOWEST, rootless_shapes, rootless_voicing, stack
from music.band.walking_bass import BASS_HIGHEST, BASS_LOWEST, walking_bass

TICKS = 480


def chord(root, intervals, start=0, duration=4, symbol=""):
    return Chord(start, duration, root, tuple((root + i) % 12 for i in intervals), symbol)


MINOR7, DOMINANT7, MAJOR7 = (0, 3, 7, 10), (0, 4, 7, 10), (0, 4, 7, 11)
DM7, G7, CMAJ7, A7 = chord(2, MINOR7), chord(7, DOMINANT7), chord(0, MAJOR7), chord(9, DOMINANT7)


def progression_song(bars, time_signature=(4, 4), melody=None, tempo=120):
    """A song of bars of chords (each a list of (root, intervals)), shared evenly;
    melody: per bar a list of Notes, default none."""
    numerator, denominator = time_signature
    length = F(4 * numerator, denominator)
    measures = []
    for index, bar in enumerate(bars):
        share = length / len(bar) if bar else length
        chords = [chord(root, intervals, k * share, share) for k, (root, intervals) in enumerate(bar)]
        notes = melody[index] if melody else ()
        measures.append(Measure(length, notes, chords, number=index + 1))
    return Song(measures, tempo=tempo, time_signature=time_signature)


II_V_I = [[(2, MINOR7), (7, DOMINANT7)], [(0, MAJOR7)], [(9, DOMINANT7)],
          [(2, MINOR7), (7, DOMINANT7)], [(0, MAJOR7)]]


def read(data):
    return mido.MidiFile(file=io.BytesIO(data))


def track_notes(track):
    """(onset tick, end tick, pitch, velocity, channel) of every note of a track."""
    held, notes, tick = {}, [], 0
    for message in track:
        tick += message.time
        if message.type == "note_on" and message.velocity > 0:
            held[message.note] = (tick, message.velocity, message.channel)
        elif message.type in ("note_on", "note_off"):
            start, velocity, channel = held.pop(message.note)
            notes.append((start, tick, message.note, velocity, channel))
    return sorted(notes)


def tracks_by_name(data):
    return {track.name: track for track in read(data).tracks[1:]}


# ------------------------------------------------------------------ metre

def test_four_four_has_strong_beats_one_and_three():
    pulses = bar_pulses(4, (4, 4))
    assert [p.start for p in pulses] == [0, 1, 2, 3]
    assert [p.strong for p in pulses] == [True, False, True, False]
    assert [p.ends_group for p in pulses] == [False, True, False, True]
    assert [p.offbeat for p in pulses] == [F(1, 2), F(3, 2), F(5, 2), F(7, 2)]


@pytest.mark.parametrize("signature, starts, strong_starts", [
    ((3, 4), [0, 1, 2], [0]),
    ((5, 4), [0, 1, 2, 3, 4], [0, 3]),                       # 3 + 2
    ((6, 8), [0, F(3, 2)], [0]),                              # two dotted quarters
    ((7, 8), [F(k, 2) for k in range(7)], [0, F(3, 2), F(5, 2)]),  # 3 + 2 + 2 eighths
    ((2, 2), [0, 2], [0]),
    ((12, 8), [0, F(3, 2), 3, F(9, 2)], [0, 3]),
])
def test_pulses_and_strong_beats_in_other_metres(signature, starts, strong_starts):
    numerator, denominator = signature
    pulses = bar_pulses(F(4 * numerator, denominator), signature)
    assert [p.start for p in pulses] == starts
    assert [p.start for p in pulses if p.strong] == strong_starts


def test_compound_offbeat_is_the_last_eighth_of_the_beat():
    assert [p.offbeat for p in bar_pulses(3, (6, 8))] == [1, F(5, 2)]


def test_a_short_bar_ends_with_a_short_pulse():
    pulses = bar_pulses(F(3, 2), (4, 4))
    assert [(p.start, p.length) for p in pulses] == [(0, 1), (1, F(1, 2))]


@given(st.integers(1, 40))
def test_groups_are_twos_and_threes_covering_the_bar(count):
    sizes = group_sizes(count)
    assert sum(sizes) == count
    assert all(size in (2, 3) for size in sizes) or count == 1
    assert sizes.count(3) <= 1


# ------------------------------------------------------------------ swing

def eighths_song(time_signature=(4, 4), bar_length=4):
    notes = [Note(F(k, 2), F(1, 2), 60 + k) for k in range(int(2 * bar_length))]
    return Song([Measure(bar_length, notes)], time_signature=time_signature)


@pytest.mark.parametrize("ratio, ticks_per_beat, offbeat_tick", [
    (2, 480, 320),            # 480 * 2/3
    (F(3, 2), 480, 288),      # 480 * 3/5
    (3, 480, 360),            # 480 * 3/4
    (2, 960, 640),            # 960 * 2/3
    (1, 480, 240),            # straight
    (0, 480, 240),            # 0 also means straight
])
def test_offbeat_eighths_move_by_the_exact_ticks(ratio, ticks_per_beat, offbeat_tick):
    data = song_to_midi_bytes(eighths_song(), swing=ratio, ticks_per_beat=ticks_per_beat)
    notes = track_notes(read(data).tracks[1])
    expected_onsets = []
    for beat in range(4):
        expected_onsets += [beat * ticks_per_beat, beat * ticks_per_beat + offbeat_tick]
    assert [start for start, *_ in notes] == expected_onsets
    # the note before the off-beat grows to meet it: nothing overlaps, nothing falls silent
    assert all(end == next_start for (_, end, *_), (next_start, *_) in zip(notes, notes[1:]))


def test_beats_with_sixteenths_or_triplets_are_not_swung():
    sixteenths = [Note(F(k, 4), F(1, 4), 60 + k) for k in range(4)]
    triplets = [Note(1 + F(k, 3), F(1, 3), 70 + k) for k in range(3)]
    eighths = [Note(2, F(1, 2), 80), Note(F(5, 2), F(1, 2), 81)]
    song = Song([Measure(3, sixteenths + triplets + eighths)], time_signature=(3, 4))
    notes = track_notes(read(song_to_midi_bytes(song, swing=2)).tracks[1])
    assert [start for start, *_ in notes] == [0, 120, 240, 360, 480, 640, 800, 960, 960 + 320]


def test_compound_metres_are_never_swung():
    song = eighths_song(time_signature=(6, 8), bar_length=3)
    notes = track_notes(read(song_to_midi_bytes(song, swing=2)).tracks[1])
    assert [start for start, *_ in notes] == [240 * k for k in range(6)]


def test_an_offbeat_rest_moves_the_note_end_before_it():
    song = Song([Measure(1, [Note(0, F(1, 2), 60)])])
    notes = track_notes(read(song_to_midi_bytes(song, swing=2)).tracks[1])
    assert [(start, end) for start, end, *_ in notes] == [(0, 320)]


@pytest.mark.parametrize("swing", [F(1, 2), 5, -1, "medium", None, float("inf"), float("nan")])
def test_bad_swing_is_a_music_error(swing):
    with pytest.raises(MusicError, match="swing"):
        checked_swing(swing)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 4)), min_size=1, max_size=16),
       st.sampled_from([F(3, 2), F(2), F(3)]))
def test_swing_keeps_order_and_never_overlaps(gaps_lengths, ratio):
    sounds, position = [], F(0)
    for gap, length in gaps_lengths:
        position += F(gap, 4)
        sounds.append(Sound(position, position + F(length, 4), 60, 90))
        position += F(length, 4)
    bar_length = max(4, -(-position // 1))
    swung = swing_sounds(sounds, [F(0)], [bar_length], (4, 4), ratio)
    for before, after in zip(swung, swung[1:]):
        assert before.start < before.end <= after.start < after.end
    for written, played in zip(sounds, swung):
        for old, new in ((written.start, played.start), (written.end, played.end)):
            if old != new:  # only the middle of a beat moves, and only to r / (1 + r)
                assert old % 1 == F(1, 2) and new == old - F(1, 2) + ratio / (1 + ratio)


# ------------------------------------------------------------------ dynamics

def test_strong_beats_and_the_phrase_peak_are_accented():
    notes = [Note(beat, 1, pitch) for beat, pitch in enumerate([60, 62, 64, 65])]
    song = Song([Measure(4, notes)])
    # 90 + 10 on beats 1 and 3, + 4 on 2 and 4, + 12 on the top note (beat 4)
    assert melody_velocities(song) == [100, 94, 100, 106]


def test_a_low_short_offbeat_note_between_higher_ones_is_ghosted():
    notes = [Note(0, F(1, 2), 67), Note(F(1, 2), F(1, 2), 60), Note(1, 1, 67)]
    song = Song([Measure(2, notes)])
    # 100 + 12 (first top note), 90 - 24 (ghost), 94 (beat 2)
    assert melody_velocities(song) == [112, 66, 94]


def test_a_quarter_rest_starts_a_new_phrase_with_its_own_peak():
    notes = [Note(0, 1, 72), Note(1, 1, 60), Note(3, 1, 64)]
    song = Song([Measure(4, notes)])
    assert melody_velocities(song) == [112, 94, 94 + 12]


def test_velocities_stay_in_midi_range():
    song = Song([Measure(2, [Note(0, 1, 72, velocity=120), Note(F(3, 2), F(1, 2), 60, velocity=10),
                             ])])
    assert melody_velocities(song) == [127, 10]


def test_dynamics_option_shades_the_melody_track():
    notes = [Note(beat, 1, pitch) for beat, pitch in enumerate([60, 62, 64, 65])]
    song = Song([Measure(4, notes)])
    plain = [velocity for *_, velocity, _ in track_notes(read(song_to_midi_bytes(song)).tracks[1])]
    shaded = [velocity for *_, velocity, _ in
              track_notes(read(song_to_midi_bytes(song, dynamics=True)).tracks[1])]
    assert plain == [90] * 4 and shaded == [100, 94, 100, 106]


# ------------------------------------------------------------------ voicing

@pytest.mark.parametrize("the_chord, shape_a, shape_b", [
    (DM7, (5, 0, 4), (0, 5, 11)),                        # F C E / C F B
    (G7, (11, 5, 9), (5, 11, 4)),                        # B F A / F B E
    (CMAJ7, (4, 11, 2), (11, 4, 9)),                     # E B D / B E A
    (chord(7, (0, 4, 7, 10, 1)), (11, 5, 8), (5, 11, 4)),   # G7b9: the b9 (Ab)
    (chord(0, (0, 4, 7, 9)), (4, 9, 2), (9, 4, 2)),      # C6: the 6th plays the 7th's part
    (chord(11, (0, 3, 6, 10)), (2, 9, 4), (9, 2, 5)),    # Bm7b5: D A E / A D F
])
def test_rootless_shapes(the_chord, shape_a, shape_b):
    assert rootless_shapes(the_chord) == (shape_a, shape_b)


def test_stack_takes_the_nearest_pitch_above():
    assert stack((5, 0, 4), 53) == (53, 60, 64)
    assert stack((0, 0), 60) == (60, 72)


def test_dm7_to_g7_moves_by_one_half_step():
    first = rootless_voicing(DM7, ceiling=70)
    assert first == (53, 60, 64)                 # F3 C4 E4, nearest middle C
    assert rootless_voicing(G7, ceiling=70, previous=first) == (53, 59, 64)   # F3 B3 E4


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 11), st.sampled_from([MINOR7, DOMINANT7, MAJOR7, (0, 3, 6, 10), (0, 3, 6, 9),
                                            (0, 4, 8), (0, 5, 7, 10), (0, 4, 7)]),
       st.integers(58, 96))
def test_voicings_sit_under_the_ceiling_without_the_root(root, intervals, ceiling):
    voicing = rootless_voicing(chord(root, intervals), ceiling)
    assert voicing[-1] < ceiling and voicing[0] >= COMP_LOWEST
    assert list(voicing) == sorted(set(voicing))
    # three notes when an octave and a bit above B-flat 2 is free, else a 3-7 shell
    assert len(voicing) == 3 if ceiling >= 68 else len(voicing) in (2, 3)
    assert root not in {pitch % 12 for pitch in voicing}


def test_a_low_ceiling_leaves_a_shell():
    assert rootless_voicing(CMAJ7, ceiling=58) == (47, 52, 57)   # B2 E3 A3 still fits
    assert rootless_voicing(CMAJ7, ceiling=57) == (47, 52)       # the shell B2 E3
    assert rootless_voicing(CMAJ7, ceiling=40) == (47, 52)       # nothing fits: the lowest shell


# ------------------------------------------------------------------ walking bass

def bass_line(song, seed=0):
    return walking_bass(song_beats(song), np.random.default_rng(seed))


@pytest.mark.parametrize("signature, beat_quarters", [
    ((4, 4), 1), ((3, 4), 1), ((5, 4), 1), ((6, 8), F(3, 2)), ((2, 2), 2)])
def test_every_beat_has_one_bass_note_in_any_metre(signature, beat_quarters):
    song = progression_song([[(2, MINOR7)], [(7, DOMINANT7)], [(0, MAJOR7)]], signature)
    bar = F(4 * signature[0], signature[1])
    line = bass_line(song)
    expected = [k * beat_quarters for k in range(int(3 * bar / beat_quarters))]
    assert [sound.start for sound in line] == expected
    assert all(sound.end - sound.start == beat_quarters for sound in line)


def test_a_new_chord_starts_on_its_root():
    line = bass_line(progression_song(II_V_I))
    by_start = {sound.start: sound.pitch % 12 for sound in line}
    assert [by_start[t] for t in (0, 2, 4, 8, 12, 14, 16)] == [2, 7, 0, 9, 2, 7, 0]


def test_a_slash_chord_puts_its_bass_note_in_the_bass():
    c_over_e = make_chord("C/E")
    song = Song([Measure(4, chords=[DM7]), Measure(4, chords=[c_over_e])])
    line = bass_line(song)
    assert [sound.pitch % 12 for sound in line if sound.start == 4] == [4]
    tracks = tracks_by_name(song_to_midi_bytes(song, band="trio"))
    assert [pitch % 12 for start, _, pitch, *_ in track_notes(tracks["Bass"]) if start == 4 * TICKS] \
        == [4]


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2 ** 32))
def test_bass_approaches_each_new_chord_and_stays_in_range(seed):
    line = bass_line(progression_song(II_V_I), seed)
    assert all(BASS_LOWEST <= sound.pitch <= BASS_HIGHEST for sound in line)
    by_start = {sound.start: sound.pitch for sound in line}
    for change in (2, 4, 8, 12, 14, 16):
        approach, target = by_start[change - 1], by_start[change]
        # a half step below or above, a whole step above, or the fifth above
        assert (approach - target) % 12 in (11, 1, 2, 7)
        assert abs(approach - target) <= 7   # it resolves nearby, not an octave away
    for before, after in zip(line, line[1:]):
        assert abs(after.pitch - before.pitch) <= 12


# ------------------------------------------------------------------ comping

def test_every_chord_is_struck_and_strikes_sit_on_the_eighth_grid():
    song = progression_song(II_V_I * 3)
    for seed in range(5):
        sounds = comp_sounds(song_beats(song), [], np.random.default_rng(seed), 62)
        starts = {sound.start for sound in sounds}
        for bar in range(15):
            chords = song.measures[bar].chords
            for each in chords:
                assert any(bar * 4 + each.start <= t < bar * 4 + each.end for t in starts)
        assert all((2 * t).denominator == 1 for t in starts)
        assert all(len([s for s in sounds if s.start == t]) == 3 for t in starts)
        # a strike is let go by the next one, so no key is ever held twice
        ordered = sorted(sounds)
        for earlier, later in zip(ordered, ordered[3:]):
            assert earlier.end <= later.start


@settings(max_examples=25, deadline=None)
@given(st.lists(st.lists(st.integers(62, 84) | st.none(), min_size=8, max_size=8),
                min_size=5, max_size=5),
       st.integers(0, 1000))
def test_the_melody_sits_above_the_comping(pitches, seed):
    melody = [[Note(F(k, 2), F(1, 2), pitch) for k, pitch in enumerate(bar)] for bar in pitches]
    song = progression_song(II_V_I, melody=melody)
    parts = {part.name: part for part in arrange(song, band="trio", swing=2, seed=seed)}
    for comp in parts["Piano"].sounds:
        sounding = [note.pitch for note in parts["Melody"].sounds
                    if note.start < comp.end and note.end > comp.start]
        assert all(comp.pitch < pitch for pitch in sounding)


# ------------------------------------------------------------------ the band in MIDI

def test_trio_tracks_channels_and_programs():
    data = song_to_midi_bytes(progression_song(II_V_I), band="trio")
    midi = read(data)
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Piano", "Bass", "Drums"]
    programs = [[(m.channel, m.program) for m in track if m.type == "program_change"]
                for track in midi.tracks[1:]]
    assert programs == [[(0, 26)], [(1, 0)], [(2, 32)], [(9, 0)]]


def test_comp_band_is_melody_and_piano():
    midi = read(song_to_midi_bytes(progression_song(II_V_I), band="comp"))
    assert [track.name for track in midi.tracks[1:]] == ["Melody", "Piano"]


def test_drums_play_on_channel_ten_ride_and_hi_hat_on_two_and_four():
    song = progression_song([[(0, MAJOR7)]])
    notes = track_notes(tracks_by_name(song_to_midi_bytes(song, band="trio"))["Drums"])
    assert {channel for *_, channel in notes} == {9}
    ride = [start for start, _, pitch, *_ in notes if pitch == 51]
    hi_hat = [start for start, _, pitch, *_ in notes if pitch == 44]
    assert ride == [0, 480, 720, 960, 1440, 1680]     # ding, ding-da, ding, ding-da
    assert hi_hat == [480, 1440]


def test_swing_moves_the_ride_skip_notes_too():
    song = progression_song([[(0, MAJOR7)]])
    notes = track_notes(tracks_by_name(song_to_midi_bytes(song, band="trio", swing=2))["Drums"])
    assert [start for start, _, pitch, *_ in notes if pitch == 51] == [0, 480, 800, 960, 1440, 1760]


def assert_band_silent_between(song, gap_start, gap_end):
    """No band note sounds inside [gap_start, gap_end) ticks; the band plays before and after."""
    tracks = tracks_by_name(song_to_midi_bytes(song, band="trio", seed=3))
    for name in ("Piano", "Bass", "Drums"):
        notes = track_notes(tracks[name])
        assert not [n for n in notes if n[1] > gap_start and n[0] < gap_end], name
        assert [n for n in notes if n[0] < gap_start] and [n for n in notes if n[0] >= gap_end], name


def test_no_chord_silences_the_band_for_its_span():
    assert_band_silent_between(progression_song([[(2, MINOR7)], [], [(0, MAJOR7)]]),
                               4 * TICKS, 8 * TICKS)


def test_no_chord_inside_a_bar_silences_the_band_there():
    bars = parse_progression("Dm7 N.C. | Cmaj7")
    song = Song([Measure(4, chords=chords, number=n) for n, chords in enumerate(bars, 1)])
    assert_band_silent_between(song, 2 * TICKS, 4 * TICKS)


def test_same_inputs_give_the_same_bytes_and_the_seed_matters():
    melody = [[Note(F(k, 2), F(1, 2), 64 + k) for k in range(8)]] * 5
    song = progression_song(II_V_I, melody=melody)
    first = song_to_midi_bytes(song, **COMBO_OPTIONS, seed=7)
    assert first == song_to_midi_bytes(song, **COMBO_OPTIONS, seed=7)
    assert first != song_to_midi_bytes(song, **COMBO_OPTIONS, seed=8)


@pytest.mark.parametrize("options, culprit", [
    ({"band": "quartet"}, "band"), ({"seed": -1}, "seed"), ({"bass_program": 200}, "program"),
    ({"dynamics": "yes"}, "dynamics"), ({"swing": 9}, "swing")])
def test_bad_band_options_are_one_line_music_errors(options, culprit):
    with pytest.raises(MusicError, match=culprit) as error:
        arrange(progression_song(II_V_I), **options)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("signature, ride, hi_hat", [
    ((3, 4), [0, 480, 960, 1200], [480, 960]),              # 1, 2, 3-da; hat on 2 and 3
    ((5, 4), [0, 480, 960, 1200, 1440, 1920, 2160], [480, 960, 1920]),   # 3 + 2
    ((6, 8), [0, 720, 1200], [720]),                         # two dotted beats, "da" on the last eighth
])
def test_drums_follow_the_metre(signature, ride, hi_hat):
    song = progression_song([[(0, MAJOR7)]], signature)
    notes = track_notes(tracks_by_name(song_to_midi_bytes(song, band="trio"))["Drums"])
    assert [start for start, _, pitch, *_ in notes if pitch == 51] == ride
    assert [start for start, _, pitch, *_ in notes if pitch == 44] == hi_hat


@pytest.mark.parametrize("signature", [(3, 4), (5, 4), (6, 8), (7, 8)])
def test_the_whole_band_plays_in_odd_metres(signature):
    song = progression_song(II_V_I, signature)
    bar_ticks = TICKS * 4 * signature[0] // signature[1]
    tracks = tracks_by_name(song_to_midi_bytes(song, **COMBO_OPTIONS))
    for name in ("Piano", "Bass", "Drums"):
        notes = track_notes(tracks[name])
        assert {start // bar_ticks for start, *_ in notes} == set(range(5)), name
        assert max(end for _, end, *_ in notes) <= 5 * bar_ticks


def test_a_part_refuses_a_bad_sound_or_voice():
    with pytest.raises(MusicError, match="Bass: bad sound"):
        Part("Bass", 2, 32, "bass", [Sound(F(1), F(1), 40, 80)])
    with pytest.raises(MusicError, match="voice"):
        Part("Horn", 3, 66, "trumpet")
