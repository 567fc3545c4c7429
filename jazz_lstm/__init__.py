"""jazz_lstm: the pipeline between ``music`` (files, songs, tokens) and ``lstm_np``
(token ids, probabilities, gradients), and its public Python API."""
