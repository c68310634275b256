"""nnlab: a small, readable NumPy engine for learning how neural networks work."""
