"""Error measures for the gradient-check tests (the differences come from lstm_np.gradcheck)."""
import numpy as np


def elementwise_relative_error(analytic, numeric):
    """max_i |a_i - n_i| / max(|a_i| + |n_i|, 1e-8)."""
    return float(np.max(np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-8)))


def normwise_relative_error(analytic, numeric):
    """max_i |a_i - n_i| / max_i |n_i|: the error against the gradient's own scale.

    Elementwise relative error is meaningless for entries near zero: the
    finite difference of a loss of size ~1 carries ~1e-10 of rounding noise,
    so a true gradient entry of 1e-7 shows a relative error of 1e-3 however
    right the code is.
    """
    return float(np.max(np.abs(analytic - numeric)) / max(np.max(np.abs(numeric)), 1e-12))
