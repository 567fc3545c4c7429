"""Optimizers against arithmetic written out by hand from Keras 2's formulas."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lstm_np.optim import Adam, RMSprop, clip_by_global_norm, make_optimizer

GRADS_PER_STEP = [
    {"w": [0.5, -1.0, 2.0], "b": [0.1]},
    {"w": [0.25, 0.0, -3.0], "b": [-0.2]},
    {"w": [-1.5, 1.0, 0.5], "b": [0.3]},
]
START = {"w": [1.0, -2.0, 0.5], "b": [0.0]}


def as_arrays(values, dtype=np.float64):
    return {name: np.array(v, dtype=dtype) for name, v in values.items()}


def hand_adam(lr, beta_1, beta_2, epsilon, decay):
    """Keras 2 Adam, one scalar at a time with Python floats."""
    params = {name: list(v) for name, v in START.items()}
    m = {name: [0.0] * len(v) for name, v in START.items()}
    v_ = {name: [0.0] * len(v) for name, v in START.items()}
    for iterations, grads in enumerate(GRADS_PER_STEP):
        t = iterations + 1
        lr_t = lr / (1 + decay * iterations) * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        for name, g_list in grads.items():
            for i, g in enumerate(g_list):
                m[name][i] = beta_1 * m[name][i] + (1 - beta_1) * g
                v_[name][i] = beta_2 * v_[name][i] + (1 - beta_2) * g * g
                params[name][i] -= lr_t * m[name][i] / (math.sqrt(v_[name][i]) + epsilon)
    return params


def hand_rmsprop(lr, rho, epsilon, decay):
    params = {name: list(v) for name, v in START.items()}
    a = {name: [0.0] * len(v) for name, v in START.items()}
    for iterations, grads in enumerate(GRADS_PER_STEP):
        lr_now = lr / (1 + decay * iterations)
        for name, g_list in grads.items():
            for i, g in enumerate(g_list):
                a[name][i] = rho * a[name][i] + (1 - rho) * g * g
                params[name][i] -= lr_now * g / (math.sqrt(a[name][i]) + epsilon)
    return params


def run(optimizer, dtype=np.float64, steps=None):
    params = as_arrays(START, dtype)
    for grads in GRADS_PER_STEP[:steps]:
        optimizer.step(params, as_arrays(grads, dtype))
    return params


@pytest.mark.parametrize("decay", [0.0, 0.01, 0.5])
def test_adam_matches_hand_arithmetic(decay):
    kwargs = dict(lr=0.01, beta_1=0.9, beta_2=0.999, epsilon=1e-7, decay=decay)
    got = run(Adam(**kwargs))
    want = hand_adam(**kwargs)
    for name in START:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("decay", [0.0, 0.01, 0.5])
def test_rmsprop_matches_hand_arithmetic(decay):
    kwargs = dict(lr=0.01, rho=0.9, epsilon=1e-7, decay=decay)
    got = run(RMSprop(**kwargs))
    want = hand_rmsprop(**kwargs)
    for name in START:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12, atol=1e-15)


def test_adam_first_step_moves_each_weight_by_lr_against_its_gradient():
    # With m=(1-b1)g, v=(1-b2)g^2 the folded bias correction cancels: step = lr*sign(g).
    params = {"w": np.array([1.0, 1.0, 1.0])}
    Adam(lr=0.01, epsilon=0.0).step(params, {"w": np.array([3.0, -0.002, 40.0])})
    np.testing.assert_allclose(params["w"], [0.99, 1.01, 0.99], rtol=1e-14)


def test_adam_decay_shrinks_the_learning_rate_from_the_second_update():
    adam = Adam(lr=0.01, decay=0.5)
    assert adam.decayed_lr() == 0.01
    run(adam, steps=1)
    assert adam.decayed_lr() == pytest.approx(0.01 / 1.5)
    run(adam, steps=1)
    assert adam.decayed_lr() == pytest.approx(0.01 / 2.0)


def test_rmsprop_first_step_literal():
    # a = 0.1 * 4 = 0.4; step = 0.001 * 2 / sqrt(0.4)
    params = {"w": np.array([0.0])}
    RMSprop(lr=0.001, rho=0.9, epsilon=0.0).step(params, {"w": np.array([2.0])})
    assert params["w"][0] == pytest.approx(-0.002 / math.sqrt(0.4), rel=1e-14)


@pytest.mark.parametrize("make", [Adam, RMSprop])
def test_update_is_in_place_and_keeps_float32(make):
    params = as_arrays(START, np.float32)
    originals = {name: array for name, array in params.items()}
    before = {name: array.copy() for name, array in params.items()}
    optimizer = make(lr=0.1)
    optimizer.step(params, as_arrays(GRADS_PER_STEP[0], np.float64))
    for name in START:
        assert params[name] is originals[name]
        assert params[name].dtype == np.float32
        assert not np.array_equal(params[name], before[name])
    assert all(array.dtype == np.float32 for key, array in optimizer.state_dict().items()
               if key != "iterations")


def test_float32_run_agrees_with_float64_run():
    single = run(Adam(lr=0.01, decay=0.01), np.float32)
    double = run(Adam(lr=0.01, decay=0.01), np.float64)
    for name in START:
        np.testing.assert_allclose(single[name], double[name], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("decay", [0.0, 0.01])
def test_adam_minimises_a_quadratic(decay):
    rng = np.random.default_rng(0)
    curvature = rng.uniform(0.5, 5.0, size=(4, 3))
    target = rng.normal(size=(4, 3))
    params = {"x": np.zeros((4, 3))}
    adam = Adam(lr=0.05, decay=decay)

    def loss():
        return 0.5 * float(np.sum(curvature * (params["x"] - target) ** 2))

    start = loss()
    for _ in range(1500):
        adam.step(params, {"x": curvature * (params["x"] - target)})
    assert loss() < 1e-4 * start
    np.testing.assert_allclose(params["x"], target, atol=1e-2)


@pytest.mark.parametrize("make", [lambda: Adam(lr=0.01, decay=0.01), lambda: RMSprop(lr=0.01, decay=0.1)])
def test_state_round_trip_continues_like_an_uninterrupted_run(make):
    rng = np.random.default_rng(1)
    grads = [{"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)} for _ in range(8)]
    start = {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=2)}

    straight = {name: v.copy() for name, v in start.items()}
    optimizer = make()
    for g in grads:
        optimizer.step(straight, g)

    interrupted = {name: v.copy() for name, v in start.items()}
    first = make()
    for g in grads[:4]:
        first.step(interrupted, g)
    saved_state = first.state_dict()
    resumed = {name: v.copy() for name, v in interrupted.items()}
    first.step(interrupted, grads[4])  # a later step must not leak into the saved copy

    second = make()
    second.load_state_dict(saved_state)
    assert second.iterations == 4
    for g in grads[4:]:
        second.step(resumed, g)

    for name in start:
        assert np.array_equal(resumed[name], straight[name])


def test_load_state_dict_refuses_mismatches():
    params = as_arrays(START)
    adam = Adam()
    adam.step(params, as_arrays(GRADS_PER_STEP[0]))
    good = adam.state_dict()

    with pytest.raises(ValueError, match="iterations"):
        Adam().load_state_dict({k: v for k, v in good.items() if k != "iterations"})
    with pytest.raises(ValueError, match="unknown optimizer state entry 'm/w'"):
        RMSprop().load_state_dict(good)
    with pytest.raises(ValueError, match="disagree"):
        Adam().load_state_dict({k: v for k, v in good.items() if k != "v/b"})
    with pytest.raises(ValueError, match=r"'w' has shape \(4,\)"):
        adam.load_state_dict({**good, "m/w": np.zeros(4), "v/w": np.zeros(4)})
    with pytest.raises(ValueError, match="extra"):
        adam.load_state_dict({**good, "m/extra": np.zeros(1), "v/extra": np.zeros(1)})
    with pytest.raises(ValueError, match="non-negative integer"):
        Adam().load_state_dict({**good, "iterations": np.array(1.5)})
    assert adam.iterations == 1  # refused loads leave the optimizer as it was


def test_loaded_state_must_fit_the_parameters_on_the_next_step():
    adam = Adam()
    adam.load_state_dict({"iterations": np.array(3), "m/w": np.zeros(2), "v/w": np.zeros(2)})
    with pytest.raises(ValueError, match=r"'w' has shape \(3,\)"):
        adam.step({"w": np.zeros(3)}, {"w": np.zeros(3)})
    with pytest.raises(ValueError, match="b present in the parameters but not in the optimizer state"):
        adam.step({"w": np.zeros(2), "b": np.zeros(1)}, {"w": np.zeros(2), "b": np.zeros(1)})
    with pytest.raises(ValueError, match="dtype"):
        adam.step({"w": np.zeros(2, np.float32)}, {"w": np.zeros(2, np.float32)})


def test_step_refuses_gradients_that_do_not_fit():
    with pytest.raises(ValueError, match="b missing from the gradients"):
        Adam().step(as_arrays(START), {"w": np.zeros(3)})
    with pytest.raises(ValueError, match=r"'w' has shape \(2,\) in the gradients"):
        Adam().step(as_arrays(START), {"w": np.zeros(2), "b": np.zeros(1)})


def test_make_optimizer():
    adam = make_optimizer("Adam", lr=0.01, beta_1=0.9, beta_2=0.999, decay=0.01)
    assert isinstance(adam, Adam) and adam.lr == 0.01 and adam.decay == 0.01
    assert isinstance(make_optimizer("rmsprop", rho=0.8), RMSprop)
    with pytest.raises(ValueError, match="adam, rmsprop"):
        make_optimizer("sgd")


def test_clip_scales_all_gradients_jointly():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]], dtype=np.float32)}
    norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6, 0.0])
    np.testing.assert_allclose(grads["b"], [[0.8]], rtol=1e-6)
    assert grads["b"].dtype == np.float32


def test_clip_leaves_small_gradients_alone():
    grads = {"a": np.array([0.3, -0.4])}
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["a"], [0.3, -0.4])


def test_clip_survives_float32_squares_that_overflow():
    grads = {"a": np.full(4, 1e30, dtype=np.float32)}
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(2e30, rel=1e-6)
    np.testing.assert_allclose(grads["a"], 0.5, rtol=1e-6)


def test_clip_leaves_non_finite_gradients_for_the_caller():
    grads = {"a": np.array([np.inf, 1.0])}
    assert clip_by_global_norm(grads, 1.0) == math.inf
    np.testing.assert_array_equal(grads["a"], [np.inf, 1.0])


@settings(max_examples=50, deadline=None)
@given(arrays(np.float64, st.integers(1, 20), elements=st.floats(-1e6, 1e6)),
       st.floats(1e-3, 1e3))
def test_clipped_norm_never_exceeds_max_norm(values, max_norm):
    grads = {"g": values.copy()}
    before = clip_by_global_norm(grads, max_norm)
    after = float(np.linalg.norm(grads["g"]))
    assert after <= max_norm * (1 + 1e-9)
    assert after == pytest.approx(min(before, max_norm), rel=1e-9, abs=1e-300)
