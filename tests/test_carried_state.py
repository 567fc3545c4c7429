"""Gradient checks with a carried state (issue 20): two windows, the second starting where
the first ended.

When training carries the LSTM's state (a<T>, c<T>) from one window into the next, the
second window's loss depends on the weights twice: through its own steps, and through the
state the first window handed over.  ``lstm.backward`` is built for that: it takes the
gradient reaching the final state (da_T, dc_T) and returns the initial state's (da0, dc0).
So running window 2's backward first and giving its (da0, dc0) to window 1's backward is
backpropagation through both windows (full BPTT); giving window 1 zeros instead is
truncated BPTT, which treats the handed-over state as a constant.

The other gradient checks (tests/test_gradcheck.py, test_model.py) look at one window from
a given state.  These check the hand-over, in float64, with lstm_np.gradcheck's centred
differences, measure and threshold, on L = L1(window 1's outputs) + L2(window 2's), each a
weighted sum of the outputs with fixed random weights so that every output counts:

* full BPTT: the summed dW, db and the first window's da0, dc0 are dL's;
* truncated: they are the derivatives of L_trunc, in which window 2 starts from the state
  window 1 gave with the unperturbed weights, held fixed; and they differ from full BPTT's;
* two windows with the carried state are one pass over the 7 steps, outputs and gradients;
* and the check can fail: dropping dc0 (or da0) at the boundary is caught.
"""
import numpy as np
import pytest

from lstm_np import kernels, lstm
from lstm_np.gradcheck import THRESHOLD, difference, numerical_gradient

BACKENDS = ["reference", "numpy"] + (["numba"] if kernels.numba_available() else [])
VOCAB, N_A, BATCH, T1, T2 = 4, 5, 2, 4, 3
NAMES = ("W", "b", "a0", "c0")


# What window 1's backward receives at its final state, given window 2's (da0, dc0).
def full_bptt(da0, dc0):
    return da0, dc0


def truncated_bptt(da0, dc0):
    return None, None


class Problem:
    """Token ids for 7 steps, a first initial state, the layer's weights and the loss weights."""

    def __init__(self, backend, seed=0):
        rng = np.random.default_rng(seed)
        self.backend = backend
        self.ids = rng.integers(0, VOCAB, size=(BATCH, T1 + T2))
        self.a0, self.c0 = rng.normal(size=(2, BATCH, N_A))
        self.W = rng.normal(size=(VOCAB + N_A, 4 * N_A)) * 0.5
        self.b = rng.normal(size=4 * N_A) * 0.5
        self.weights = rng.normal(size=(BATCH, T1 + T2, N_A))   # L = sum of a * weights

    def forward(self, start2=None):
        """Window 1 from (a0, c0), window 2 from window 1's final state, or from ``start2``.
        Returns L, window 1's final state and both caches."""
        a1, state1, cache1 = lstm.forward(self.ids[:, :T1], self.a0, self.c0, self.W, self.b,
                                          self.backend)
        a2, _, cache2 = lstm.forward(self.ids[:, T1:], *(state1 if start2 is None else start2),
                                     self.W, self.b, self.backend)
        loss = (a1 * self.weights[:, :T1]).sum() + (a2 * self.weights[:, T1:]).sum()
        return loss, state1, cache1, cache2

    def gradients(self, boundary):
        """{name: gradient}: window 2's backward, then window 1's with ``boundary(da0, dc0)``
        of window 2 as its (da_T, dc_T); dW and db summed over the windows."""
        _, _, cache1, cache2 = self.forward()
        _, da0_2, dc0_2, dW2, db2 = lstm.backward(self.weights[:, T1:], None, None, cache2)
        _, da0, dc0, dW1, db1 = lstm.backward(self.weights[:, :T1], *boundary(da0_2, dc0_2),
                                              cache1)
        return {"W": dW1 + dW2, "b": db1 + db2, "a0": da0, "c0": dc0}

    def numerical(self, truncated=False):
        """{name: centred differences} of L, or of L_trunc (window 2's start held fixed)."""
        _, state1, _, _ = self.forward()
        start2 = tuple(np.copy(part) for part in state1) if truncated else None
        return {name: numerical_gradient(lambda: self.forward(start2)[0], getattr(self, name))
                for name in NAMES}


def differences(analytic, numeric):
    return {name: difference(analytic[name], numeric[name]) for name in NAMES}


@pytest.mark.parametrize("backend", BACKENDS)
def test_full_bptt_across_the_boundary_matches_finite_differences(backend):
    problem = Problem(backend)
    measured = differences(problem.gradients(full_bptt), problem.numerical())
    assert all(value < THRESHOLD for value in measured.values()), measured


@pytest.mark.parametrize("backend", BACKENDS)
def test_truncated_bptt_matches_finite_differences_with_the_carried_state_held_fixed(backend):
    problem = Problem(backend)
    truncated = problem.gradients(truncated_bptt)
    measured = differences(truncated, problem.numerical(truncated=True))
    assert all(value < THRESHOLD for value in measured.values()), measured
    # ... and the truncation shows: the gradients are not full BPTT's.
    apart = differences(truncated, problem.gradients(full_bptt))
    assert all(value > 1e-3 for value in apart.values()), apart


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("boundary", [lambda da0, dc0: (da0, None), lambda da0, dc0: (None, dc0)],
                         ids=["without dc0", "without da0"])
def test_a_state_gradient_dropped_at_the_boundary_fails_the_check(backend, boundary):
    problem = Problem(backend)
    measured = differences(problem.gradients(boundary), problem.numerical())
    assert all(value > 1e-3 for value in measured.values()), measured


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_windows_with_the_carried_state_are_one_pass(backend):
    problem = Problem(backend)
    a1, state1, _ = lstm.forward(problem.ids[:, :T1], problem.a0, problem.c0, problem.W,
                                 problem.b, backend)
    a2, state2, _ = lstm.forward(problem.ids[:, T1:], *state1, problem.W, problem.b, backend)
    a, state, cache = lstm.forward(problem.ids, problem.a0, problem.c0, problem.W, problem.b,
                                   backend)
    np.testing.assert_allclose(np.concatenate([a1, a2], axis=1), a, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(state2, state, rtol=1e-12, atol=1e-14)
    _, da0, dc0, dW, db = lstm.backward(problem.weights, None, None, cache)
    whole = {"W": dW, "b": db, "a0": da0, "c0": dc0}
    for name, gradient in problem.gradients(full_bptt).items():
        np.testing.assert_allclose(gradient, whole[name], rtol=1e-10, atol=1e-12, err_msg=name)
