"""Evaluation of jazz-lstm models: n-gram baselines (``ngram``)."""
