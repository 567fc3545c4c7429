"""Side-by-side speed measurements of lstm_np against PyTorch's CPU LSTM."""
