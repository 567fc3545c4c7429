"""lstm_np: an LSTM in NumPy (with Numba-compiled kernels) that learns token ids.

It knows nothing about music: token ids in, probabilities and gradients out.
"""
