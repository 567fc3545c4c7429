"""lstm_np.generate's kept mass: tokens in ``keep`` are drawn at their untempered
probability, the temperature reshaping only the others (choose_tokens, its compiled twin
kernels._choose_token, generate and generate_segments on both backends)."""
import math

import numpy as np
import pytest

from lstm_np import kernels
from lstm_np.generate import choose_tokens, generate, generate_segments
from tests.test_generate_segments import fixed_logits_model, random_model, segments_on_both_backends

COMPILED = pytest.mark.skipif(not kernels.numba_available(), reason="numba is not installed")


def compiled_pick(logits, u, temperature, top_k=0, allowed=None, keep=None):
    V = len(logits)
    allowed = np.ones(V, bool) if allowed is None else np.asarray(allowed)
    keep = np.zeros(V, bool) if keep is None else np.asarray(keep)
    return kernels._choose_token(np.asarray(logits, np.float64), u, float(temperature), top_k,
                                 allowed, keep, np.empty(V), np.empty(V, bool))


def picks(logits, uniforms, temperature, top_k=0, allowed=None, keep=None):
    rows = np.tile(np.asarray(logits, np.float64), (len(uniforms), 1))
    if allowed is not None:
        allowed = np.tile(allowed, (len(uniforms), 1))
    return choose_tokens(rows, np.asarray(uniforms), temperature, top_k, allowed, keep).tolist()


# ----- by hand ------------------------------------------------------------------
def test_a_kept_token_keeps_its_untempered_probability_the_others_share_the_rest():
    # logits [0, ln 2, ln 4], T = 0.5, keep {0}:
    #   p1 = [1, 2, 4] / 7, mass = 1/7
    #   the others: softmax([2 ln 2, 2 ln 4]) = [4, 16] / 20 = [0.2, 0.8] of 6/7
    #   p = [1/7, 6/35, 24/35], cumulative [5/35, 11/35, 1] = [0.1429, 0.3143, 1]
    # Without keep: softmax([0, 2 ln 2, 2 ln 4]) = [1, 4, 16] / 21, cumulative
    #   [0.0476, 0.2381, 1].
    logits = [0.0, math.log(2), math.log(4)]
    keep = np.array([True, False, False])
    uniforms = [0.0, 0.04, 0.1, 0.14, 0.15, 0.2, 0.3, 0.32, 0.9, 0.999999]
    assert picks(logits, uniforms, 0.5, keep=keep) == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert picks(logits, uniforms, 0.5) == [0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert picks(logits, uniforms, 0.5, keep=None) == picks(logits, uniforms, 0.5)
    if kernels.numba_available():
        assert [compiled_pick(logits, u, 0.5, keep=keep) for u in uniforms] == \
            [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
        assert [compiled_pick(logits, u, 0.5) for u in uniforms] == \
            [0, 0, 1, 1, 1, 1, 2, 2, 2, 2]


def test_the_brief_example_the_kept_token_at_its_untempered_half():
    # logits [0, 0, ln 2], T = 0.5, keep {2}: p1 = [1/4, 1/4, 1/2], mass 1/2; the
    # others are equal, so p = [1/4, 1/4, 1/2], cumulative [0.25, 0.5, 1].  Tempered
    # alone: softmax([0, 0, 2 ln 2]) = [1, 1, 4] / 6, cumulative [1/6, 1/3, 1].
    logits = [0.0, 0.0, math.log(2)]
    keep = np.array([False, False, True])
    uniforms = [0.1, 0.2, 0.3, 0.4, 0.49, 0.51, 0.9]
    assert picks(logits, uniforms, 0.5, keep=keep) == [0, 0, 1, 1, 1, 2, 2]
    assert picks(logits, uniforms, 0.5) == [0, 1, 1, 2, 2, 2, 2]
    draws = picks(logits, np.random.default_rng(0).random(20000), 0.5, keep=keep)
    assert abs(draws.count(2) / 20000 - 0.5) < 0.02
    assert abs(draws.count(0) / 20000 - 0.25) < 0.02


def test_top_k_restricts_the_candidates_first():
    # top_k 2 of [ln 4, 0, ln 2, -1]: tokens 0 and 2.  keep {2}: p1 over them = [4, 2] / 6,
    # mass 1/3, token 0 alone takes 2/3: cumulative [2/3, 2/3, 1, 1].  Tempered
    # alone (T = 0.5): [16, 4] / 20, cumulative [0.8, 0.8, 1, 1].
    logits = [math.log(4), 0.0, math.log(2), -1.0]
    uniforms = [0.6, 0.7, 0.75, 0.85]
    keep = np.array([False, False, True, False])
    assert picks(logits, uniforms, 0.5, top_k=2, keep=keep) == [0, 2, 2, 2]
    assert picks(logits, uniforms, 0.5, top_k=2) == [0, 0, 0, 2]
    # a kept token outside the top 2 (token 1) is no candidate: today's picks
    outside = np.array([False, True, False, True])
    grid = np.linspace(0, 1, 201)[:-1]
    assert picks(logits, grid, 0.5, top_k=2, keep=outside) == picks(logits, grid, 0.5, top_k=2)
    # nor is a kept token the allowed mask leaves out
    allowed = np.array([True, True, False, True])
    assert picks(logits, grid, 0.5, allowed=allowed, keep=keep) == \
        picks(logits, grid, 0.5, allowed=allowed)


def test_only_kept_candidates_left_are_drawn_at_their_own_softmax():
    logits = [0.0, math.log(3), 5.0]
    allowed = np.array([True, True, False])
    keep = np.array([True, True, True])
    # p = softmax([0, ln 3]) = [0.25, 0.75] whatever the temperature
    assert picks(logits, [0.2, 0.3, 0.999999], 0.2, allowed=allowed, keep=keep) == [0, 1, 1]
    if kernels.numba_available():
        assert [compiled_pick(logits, u, 0.2, allowed=allowed, keep=keep)
                for u in [0.2, 0.3, 0.999999]] == [0, 1, 1]


def test_temperature_one_draws_as_without_keep_and_zero_ignores_it():
    rng = np.random.default_rng(3)
    uniforms = rng.random(500)
    for _ in range(20):
        logits = rng.normal(0, 2, 7)
        keep = rng.random(7) < 0.4
        assert picks(logits, uniforms, 1.0, keep=keep) == picks(logits, uniforms, 1.0)
        assert picks(logits, uniforms, 0.0, keep=keep) == [int(np.argmax(logits))] * 500


def test_keep_none_and_all_false_give_todays_picks():
    rng = np.random.default_rng(4)
    logits = rng.normal(0, 3, (300, 9))
    uniforms = rng.random(300)
    allowed = rng.random((300, 9)) < 0.6
    allowed[:, 4] = True
    for temperature, top_k in [(0.8, 0), (1.7, 3), (0.3, 8)]:
        today = choose_tokens(logits, uniforms, temperature, top_k, allowed)
        np.testing.assert_array_equal(
            choose_tokens(logits, uniforms, temperature, top_k, allowed, keep=None), today)
        np.testing.assert_array_equal(
            choose_tokens(logits, uniforms, temperature, top_k, allowed, np.zeros(9, bool)),
            today)


def test_keep_is_checked():
    model = random_model(4)
    with pytest.raises(ValueError, match="keep must be 4 booleans"):
        generate(model, np.array([[1]]), 3, np.random.default_rng(0), keep=np.ones(3, bool))
    with pytest.raises(ValueError, match="keep must be 4 booleans"):
        generate_segments(model, np.array([[1]]), np.random.default_rng(0),
                          token_costs=[0, 1, 1, 1], budgets=[4], reset_token=0,
                          keep=[0, 1, 0, 1])


# ----- the compiled twin picks the NumPy tokens ------------------------------------
@COMPILED
@pytest.mark.parametrize("with_top_k", [False, True])
@pytest.mark.parametrize("with_allowed", [False, True])
def test_compiled_choice_picks_the_numpy_token_on_random_logits(with_top_k, with_allowed):
    rng = np.random.default_rng(10 + 2 * with_top_k + with_allowed)
    for _ in range(1500):
        V = int(rng.integers(1, 12))
        logits = rng.normal(0, 3, V)
        allowed = rng.random(V) < 0.6 if with_allowed else np.ones(V, bool)
        allowed[rng.integers(V)] = True
        keep = rng.random(V) < 0.3
        temperature = float(rng.choice([0.0, 0.3, 0.8, 1.0, 2.5]))
        top_k = int(rng.integers(0, V + 1)) if with_top_k else 0
        u = rng.random()
        expected = choose_tokens(logits[None], np.array([u]), temperature, top_k, allowed[None],
                                 keep)[0]
        assert compiled_pick(logits, u, temperature, top_k, allowed, keep) == expected


@COMPILED
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("layers, dense, feature_size, temperature, top_k", [
    (1, 0, 0, 0.8, 0), (2, 4, 0, 0.5, 0), (1, 0, 3, 1.2, 0), (2, 5, 2, 0.8, 3), (3, 0, 1, 0.0, 2)])
def test_compiled_segments_with_keep_pick_the_numpy_ids(layers, dense, feature_size, temperature,
                                                        top_k, dtype):
    keep = np.array([False, False, True, False, False, True, True, False, False])
    ids = segments_on_both_backends(layers, dense, feature_size, dtype,
                                    temperature=temperature, top_k=top_k, keep=keep)
    np.testing.assert_array_equal(ids["numba"], ids["numpy"])


@COMPILED
@pytest.mark.parametrize("temperature, top_k", [(0.8, 0), (0.5, 3), (1.5, 0)])
def test_compiled_generation_with_keep_picks_the_numpy_tokens(temperature, top_k):
    primer = np.array([[1, 2], [3, 0]])
    keep = np.array([True, False, False, True, False, False, True])
    tokens = {backend: generate(random_model(7, layers=2, dense=3, seed=2, backend=backend),
                                primer, 80, np.random.default_rng(6), temperature, top_k,
                                keep=keep)
              for backend in ("numpy", "numba")}
    np.testing.assert_array_equal(tokens["numba"], tokens["numpy"])


@COMPILED
def test_the_hook_loop_keeps_the_mass_as_the_compiled_loop_does():
    # A feature_hook sends generate_segments through the NumPy loop on any backend;
    # an identity hook must give the compiled loop's ids, keep included.
    rng = np.random.default_rng(5)
    options = {"token_costs": [0, 1, 2, 2, 3, 4], "budgets": [8, 8, 6, 8], "reset_token": 0,
               "primer_features": rng.normal(size=(1, 2, 2)),
               "step_features": rng.normal(size=(4, 9, 2)), "temperature": 0.6,
               "keep": np.array([False, True, False, False, True, False])}
    model = random_model(6, feature_size=2, seed=7, backend="numba")
    compiled = generate_segments(model, np.array([[1, 2]]), np.random.default_rng(3), **options)
    hooked = generate_segments(model, np.array([[1, 2]]), np.random.default_rng(3),
                               feature_hook=lambda token, row: row, **options)
    np.testing.assert_array_equal(hooked, compiled)


# ----- draws at the untempered rate ----------------------------------------------
@pytest.mark.parametrize("backend", ["numpy"] + (["numba"] if kernels.numba_available() else []))
def test_a_rare_kept_token_is_drawn_at_its_untempered_rate(backend):
    # Four unit-cost tokens (every one always fits); token 3 has p1 = 0.04.  At T = 0.8
    # without keep it falls to about 0.022; kept, it stays at 0.04.
    rest = math.log(0.96 / 3)
    logits = np.array([0.0, rest + 0.3, rest, rest - 0.3])
    logits[3] = math.log(0.04)
    p1 = np.exp(logits[1:]) / np.exp(logits[1:]).sum()
    tempered = np.exp(logits[1:] / 0.8) / np.exp(logits[1:] / 0.8).sum()
    model = fixed_logits_model(logits, backend)
    options = {"token_costs": [0, 1, 1, 1], "budgets": [4000], "reset_token": 0,
               "temperature": 0.8}
    kept = generate_segments(model, np.array([[1]]), np.random.default_rng(11),
                             keep=np.array([False, False, False, True]), **options)[:-1]
    plain = generate_segments(model, np.array([[1]]), np.random.default_rng(11), **options)[:-1]
    assert abs(np.mean(kept == 3) - p1[2]) < 0.01
    assert abs(np.mean(plain == 3) - tempered[2]) < 0.01
    assert tempered[2] < 0.6 * p1[2]
