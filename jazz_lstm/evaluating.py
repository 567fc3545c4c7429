"""Evaluate a run: what its model predicts of held-out music, and how close its solos come.

Five sections (defined in ``jazz_lstm.evaluation``):

1. prediction: next-token cross-entropy (nats per token), perplexity and
   accuracy on held-out pieces, against unigram, bigram, trigram and
   interpolated n-grams trained on the same training tokens;
2. generated versus real: for each real held-out segment of ``bars`` bars,
   one solo of the model and one of the bigram baseline over that segment's
   chords, decoded by the run's grammar; mgeval-style overlapping areas of
   their measures against the real segments;
3. phrasing and structure: stretches of ``solo_bars`` (32) held-out bars as
   whole solos, and a model and a bigram solo over each one's chords: phrase
   lengths, repetition, H1, H4, GS and SI (docs/evaluate.md);
4. copying: the share of generated 8- and 16-grams found verbatim in the
   training stream, and the longest copy;
5. a summary line.

Segments and solos: up to ``segments`` of them (a seeded choice), each
halved in length while fewer than MIN_SEGMENTS fit the held-out music.

Held-out music, in this order: the run's validation pieces (those it
recorded, read again; a warning when the data changed since, as ``train
--resume`` refuses such a run); else ``data``
(with ``bars``, e.g. the bars a ``--bars`` run left out); else, for a run
trained on a range of bars, the bars after that range in the same files;
else the last fifth of the training bars, which the model has seen (said so).
"""
from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from jazz_lstm.corpus import read_songs
from jazz_lstm.evaluation import fit_baselines, format_table, split_segments, to_json
from jazz_lstm.evaluation.report import (Report, copying_section, means_section, prediction_section,
                                         role_section, similarity_section, structure_section)
from jazz_lstm.grammars import Piece, bar_length_of, grammar_named
from jazz_lstm.note_corpus import load_note_corpus
from jazz_lstm.runs import UsageError
from jazz_lstm.sampling import primer_inputs
from jazz_lstm.scoring import score, stretches_of
from jazz_lstm.training import reread_corpus
from music.files import write_file_atomically
from music.tokens.exact_grammar import BAR_LINE, parse_token, token_cost, units_of
from music.tokens.solo import tokens_needed
from music.tokens.structure import phrase_end_rests, song_form

SEGMENT_BARS = 8
SOLO_BARS = 32
DEFAULT_SEGMENTS = 40
MIN_SEGMENTS = 10
QUICK_SEGMENTS = 10
EVALUATION_NAME = "evaluation.json"


@dataclass
class Evaluation:
    """The report (``jazz_lstm.evaluation.Report``) and where its held-out music came from."""

    report: object
    held_out: str
    notes: list

    def table(self) -> str:
        return "\n".join([f"held-out music: {self.held_out}", *self.notes,
                          format_table(self.report)])

    def to_json(self) -> dict:
        figures = to_json(self.report)
        for entry in figures["prediction"].values():
            entry["perplexity"] = math.exp(entry["nats_per_token"])
        return {"held_out": self.held_out, "notes": self.notes, **figures}


def evaluate_run(run, *, data=None, bars=None, segments: int | None = None, seed: int = 0,
                 quick: bool = False, segment_bars: int = SEGMENT_BARS,
                 solo_bars: int = SOLO_BARS) -> Evaluation:
    """Evaluate an open ``jazz_lstm.Run``; figures are fixed by ``seed``."""
    record = run.record
    vocabulary = record.vocabulary
    index = {token: token_id for token_id, token in enumerate(vocabulary)}
    training = run.stream.pieces()
    held_out, described, notes = _held_out(record, run.stream, data, bars)
    stretches = stretches_of(held_out, index)
    if stretches.ids.shape[0] == 0:
        raise UsageError(f"held-out music ({described}) has no stretch of 2 tokens the model knows")
    watch = phrase_end_masks(vocabulary) if record.grammar == "exact" else None
    scored = score(run.model, stretches, watch)
    held_out_ids = [row[:length].tolist() for row, length in zip(stretches.ids, stretches.lengths)]
    prediction = prediction_section(training, held_out_ids, len(vocabulary),
                                    {"lstm": (scored["nats"], scored["scored"],
                                              scored["accuracy"])})
    if not record.full_stream:
        notes.append(f"this inference bundle keeps {len(run.stream.ids)} tokens of its training "
                     "stream, not all of it: the n-gram baselines and the copying figures are "
                     "fit on those")
    notes.append(f"{stretches.unknown} of {stretches.tokens} held-out tokens "
                 f"({100 * stretches.oov_rate:.2f}%) are outside the vocabulary: never scored, "
                 "and the piece is cut there")
    similarity, copying, roles, means, structure, phrase_ends = {}, {}, {}, {}, {}, {}
    if record.encoding == "grammar":
        count = segments or (QUICK_SEGMENTS if quick else DEFAULT_SEGMENTS)
        real, segment_bars, forms = _enough_segments(held_out, segment_bars, count, seed)
        if len(real) >= 3:
            generated, pieces = _generated(run, real, training, seed, forms)
            similarity = similarity_section(real, generated, seed)
            roles = role_section(real, generated)
            means = means_section(real, generated)
            copying = copying_section(training, pieces)
            notes.append(f"{len(real)} real segments of {segment_bars} bars, one solo each "
                         "from the model and from the bigram baseline")
        else:
            notes.append(f"fewer than 3 held-out segments of {segment_bars} bars: "
                         "no comparison of generated and real solos")
        solos, solo_bars, forms = _enough_segments(held_out, solo_bars, count, seed)
        if len(solos) >= 3:
            solo_segments, solo_pieces = _generated(run, solos, training, seed, forms)
            structure = structure_section(solos, solo_segments, seed)
            if watch is not None:
                phrase_ends = phrase_end_section(scored["watched"], solo_pieces["lstm"], watch)
            notes.append(f"phrasing and structure: {len(solos)} real stretches of {solo_bars} "
                         "bars, and a solo of the model and of the bigram over each one's "
                         "chords")
    report = Report(prediction=prediction, oov_rate=stretches.oov_rate, similarity=similarity,
                    copying=copying, roles=roles, means=means, structure=structure,
                    phrase_ends=phrase_ends)
    return Evaluation(report, described, notes)


def phrase_end_masks(vocabulary) -> tuple:
    """(after, following) for ``score``'s watch under the exact grammar: a note
    or tie token (a sounding note), then one rest token of a beat or more, the
    rest that ends a phrase (``music.tokens.structure.phrase_end_rests``, which sampling keeps
    at its untempered probability)."""
    after = np.array([parse_token(token).kind in ("note", "tie") for token in vocabulary])
    return after, phrase_end_rests(vocabulary)


def phrase_end_section(watched: dict, sampled_pieces: list, watch) -> dict:
    """How often a phrase-ending rest follows a note: in the held-out solos, as
    the model predicts it there (``score``'s watch), and in the model's own
    32-bar solos (``sampled_pieces``, lists of token ids)."""
    after, following = watch
    pairs = [(first, second) for piece in sampled_pieces
             for first, second in zip(piece[:-1], piece[1:]) if after[first]]
    return {"held_out_share": watched["actual"], "model_probability": watched["predicted"],
            "sampled_share": (sum(bool(following[second]) for _, second in pairs) / len(pairs)
                              if pairs else None),
            "held_out_steps": watched["steps"], "sampled_steps": len(pairs)}


def save_evaluation(run, evaluation: Evaluation) -> None:
    """The figures as evaluation.json in the run folder (for ``report``)."""
    text = json.dumps(evaluation.to_json(), indent=2, sort_keys=True)
    write_file_atomically(run.folder / EVALUATION_NAME, text.encode("utf-8"))


# ----------------------------------------------------------------- held-out music
def _pieces_of(songs, record) -> list:
    grammar = grammar_named(record.grammar, record.structure)
    return [grammar.piece(song) for song in songs]


def _held_out(record, stream, data, bars) -> tuple:
    """(pieces, description, notes) of the held-out music (module docstring)."""
    options = record.corpus.options
    # The chords given for the training melodies; held-out --data brings its own.
    given_chords = {"chords": options.chords, "chords_offset": options.chords_offset,
                    "where": options.where}
    if record.corpus.validation_sources and data is None:
        corpus = reread_corpus(record, split=False)
        validation, notes = recorded_validation(record, stream, corpus.pieces)
        return validation, f"the run's {len(validation)} validation piece(s)", notes
    if data is not None:
        if record.encoding == "notes":
            return _notes_pieces(data), f"{', '.join(map(str, data))}", []
        songs = read_songs(data, options.melody_part, options.chord_parts, bars)
        where = ", ".join(map(str, data)) + (f", bars {bars[0]}-{bars[1]}" if bars else "")
        return _pieces_of(songs, record), where, []
    if record.encoding == "notes":
        raise _usage("this notes-encoding run has no validation pieces; give --data FILES "
                     "to evaluate it on")
    trained_bars = options.bars
    if trained_bars:
        songs = read_songs(options.data, options.melody_part, options.chord_parts,
                           **given_chords)
        after = [_bars_after(song, trained_bars[1]) for song in songs]
        after = [song for song in after if song is not None]
        if after:
            return (_pieces_of(after, record),
                    f"bars {trained_bars[1] + 1}- of {', '.join(song.source for song in after)} "
                    f"(after the trained bars {trained_bars[0]}-{trained_bars[1]})", [])
    songs = read_songs(options.data, options.melody_part, options.chord_parts, trained_bars,
                       **given_chords)
    tails = [_last_fifth(song) for song in songs]
    first = tails[0]
    return (_pieces_of([song for song, _ in tails], record),
            f"the last fifth of the training bars ({first[1]} of {first[0].source}, ...)",
            ["warning: no validation pieces and no --data: these bars were trained on, "
             "so the prediction figures flatter the model"])


def recorded_validation(record, stream, pieces: list) -> tuple:
    """(validation pieces, warnings): of ``pieces`` (the run's data read again, in
    corpus order), those the run recorded as its validation pieces, never a new
    split (solos added since would move training pieces into it).  Warns when
    pieces were added or are gone, and when the training pieces read again are
    not the tokens the run trained on (the check ``train --resume`` makes)."""
    validation_left = Counter(record.corpus.validation_sources)
    training_left = Counter(record.corpus.sources)
    validation, training, added = [], [], []
    for piece in pieces:
        if validation_left[piece.source] > 0:
            validation_left[piece.source] -= 1
            validation.append(piece)
        elif training_left[piece.source] > 0:
            training_left[piece.source] -= 1
            training.append(piece)
        else:
            added.append(piece.source)
    notes = []
    if added:
        notes.append(f"warning: {len(added)} piece(s) of the data were added since the run was "
                     f"trained and are left out ({_listed(added)})")
    gone = sorted(validation_left.elements())
    if gone:
        notes.append(f"warning: {len(gone)} of the run's validation pieces are gone from the "
                     f"data ({_listed(gone)})")
    index = {token: token_id for token_id, token in enumerate(record.vocabulary)}
    read_ids = [index.get(token, -1) for piece in training for token in piece.tokens]
    # An inference bundle keeps only the start of its stream: compare that much.
    if (read_ids if record.full_stream else read_ids[:len(stream.ids)]) != stream.ids.tolist():
        notes.append("warning: the training data changed since the run was trained (so "
                     "`train --resume` would refuse it); the figures are of a model trained "
                     "on other music")
    if not validation:
        raise _usage("none of the run's validation pieces is in its data any more; give "
                     "--data FILES to evaluate it on")
    return validation, notes


def _listed(sources: list, shown: int = 3) -> str:
    return ", ".join(sources[:shown]) + (f" and {len(sources) - shown} more"
                                         if len(sources) > shown else "")


def _usage(message: str):
    return UsageError(message)


def _bars_after(song, last_bar: int):
    return song.bars(last_bar) if song.measures[last_bar:] else None


def _last_fifth(song) -> tuple:
    count = len(song.measures)
    first = count - max(1, count // 5)
    return song.bars(first), f"bars {first + 1}-{count}"


def _notes_pieces(data) -> list:
    corpus = load_note_corpus(data)
    return [Piece(label, label, list(tokens), None, None)
            for label, tokens in zip(corpus.files, corpus.token_lists)]


def _enough_segments(pieces, bars: int, count: int, seed: int) -> tuple:
    """(real segments, their bars, their forms): segments of ``bars`` bars, or of
    half as many (down to 2) while there are fewer than MIN_SEGMENTS; a segment's
    form is the FormPlace (``music.tokens.structure.song_form``) of each of its bars."""
    real, forms = _real_segments(pieces, bars, count, seed)
    while len(real) < MIN_SEGMENTS and bars > 2:
        # Little held-out music: shorter segments rather than a comparison of a
        # handful (real-vs-real needs enough pairs in each half to mean anything).
        bars //= 2
        real, forms = _real_segments(pieces, bars, count, seed)
    return real, bars, forms


def _real_segments(pieces, segment_bars: int, count: int, seed: int) -> tuple:
    """(segments, forms): up to ``count`` real segments (a seeded choice, kept in
    order) and the form places of their bars."""
    segments, forms = [], []
    for piece in pieces:
        cut = split_segments(piece.song.measures, segment_bars)
        segments.extend(cut)
        if cut:
            form = song_form(piece.song)
            forms.extend(form[start:start + segment_bars]
                         for start in range(0, len(cut) * segment_bars, segment_bars))
    if len(segments) > count:
        chosen = np.sort(np.random.default_rng(seed).permutation(len(segments))[:count])
        segments = [segments[index] for index in chosen]
        forms = [forms[index] for index in chosen]
    return segments, forms


# ----------------------------------------------------------------- generated solos
def _generated(run, real_segments, training_pieces, seed: int, forms=None) -> tuple:
    """({"lstm": segments, "bigram": segments}, {"lstm": id pieces, "bigram": id pieces}).
    A model with form features hears the real bars' form places (``forms``, one
    list a segment): the stretch's chorus and section, known for held-out solos."""
    record = run.record
    vocabulary = record.vocabulary
    grammar = grammar_named(record.grammar, record.structure)
    bigram = fit_baselines(training_pieces, len(vocabulary)).bigram
    temperature = record.train.temperature
    segments = {"lstm": [], "bigram": []}
    pieces = {"lstm": [], "bigram": []}
    streams = np.random.SeedSequence(seed).spawn(len(real_segments))
    forms = forms if forms is not None else [None] * len(real_segments)
    for segment, stream, form in zip(real_segments, streams, forms):
        token_rng, decode_rng, bigram_rng = [np.random.default_rng(child)
                                             for child in stream.spawn(3)]
        chord_bars = [list(measure.chords) for measure in segment]
        time_signature = _time_signature_of(segment)
        primer = primer_inputs(None, record, run.stream, token_rng)
        register = record.music.pitch_range
        song, ids = grammar.solo(run.model, vocabulary, chord_bars, len(segment), time_signature,
                                 record.music.tempo, primer=primer, token_rng=token_rng,
                                 decode_rng=decode_rng, temperature=temperature, top_k=0,
                                 pitch_range=register, form=form)
        segments["lstm"].append(list(song.measures))
        pieces["lstm"].append(list(ids))
        bigram_ids = _bigram_stream(bigram, grammar, vocabulary, len(segment), time_signature,
                                    bigram_rng)
        song = grammar.decode([vocabulary[i] for i in bigram_ids], chord_bars, len(segment),
                              time_signature, record.music.tempo, decode_rng, register)
        segments["bigram"].append(list(song.measures))
        pieces["bigram"].append(list(bigram_ids))
    return segments, pieces


def _time_signature_of(segment) -> tuple:
    """The time signature of a segment's first bar's length (n/4, or n/8 for halves)."""
    length = Fraction(segment[0].length)
    return (int(length), 4) if length.denominator == 1 else (int(length * 2), 8)


def _bigram_stream(bigram, grammar, vocabulary, bar_count: int, time_signature, rng) -> list:
    """The bigram baseline's tokens for ``bar_count`` bars: under the exact grammar
    drawn bar by bar among the tokens that fit the time left (as the model's
    sampler does), under the classic grammar as many as the bars can take."""
    if grammar.name == "classic":
        length = tokens_needed(bar_count, bar_length_of(time_signature), vocabulary)
        return _draws(bigram, length, rng)

    costs = np.array([token_cost(token) for token in vocabulary])
    bar_line = vocabulary.index(BAR_LINE)
    units = units_of(bar_length_of(time_signature))
    drawn = []
    for _ in range(bar_count):
        left = units
        while left > 0:
            probabilities = bigram.distribution(drawn) * ((costs > 0) & (costs <= left))
            cumulative = np.cumsum(probabilities)
            token = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
            token = min(token, len(vocabulary) - 1)
            drawn.append(token)
            left -= costs[token]
        drawn.append(bar_line)
    return drawn


def _draws(model, length: int, rng) -> list:
    drawn = []
    for _ in range(length):
        cumulative = np.cumsum(model.distribution(drawn))
        drawn.append(min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1],
                                             side="right")), len(cumulative) - 1))
    return drawn
