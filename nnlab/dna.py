"""DNA sequences with a planted motif, one-hot encoded for a 1-D convolution.

A toy version of a classic task of deep learning in genomics (chapter 12): tell the
sequences that hold a binding site from those that do not. ``nnlab.datasets`` offers
``dna_motifs`` and ``decode_dna`` beside its other data sets.
"""

import numpy as np

from nnlab._checks import as_float_array, as_rng, check_bool, check_number
from nnlab.preprocessing import check_size

__all__ = ["DNA_BASES", "decode_dna", "dna_motifs"]


#: The four bases, in the order of ``dna_motifs``' one-hot channels.
DNA_BASES = "ACGT"


def dna_motifs(n_samples=1000, length=50, motif="TATAAT", mutation_rate=0.1,
               positive_fraction=0.5, seed=None, return_positions=False):
    """Random DNA sequences, the positives with a planted motif: a toy version of a classic
    task of deep learning in genomics, finding a binding site.

    Parameters
    ----------
    n_samples : int
        Number of sequences.
    length : int
        Bases per sequence, at least as many as the motif's.
    motif : str
        Non-empty, over ACGT in either case; the default is the bacterial Pribnow box.
    mutation_rate : float
        Chance, 0 to 1, that each planted base is changed to one of the three others at
        random: the expected share of the planted bases that differ from the motif.
    positive_fraction : float
        Share of positives, 0 to 1, at random rows: ``round(positive_fraction * n_samples)``
        of them, a half rounded to even as by ``round`` (0.5 of 5 gives 2).
    seed : None, int or numpy.random.Generator
        Draws the sequences, the positives' rows, the motif's places and mutations.
    return_positions : bool
        Also return where each motif was planted.

    Returns
    -------
    X : ndarray of shape (n_samples, 4, length)
        One-hot sequences, channels first (A, C, G, T), ready for ``Conv1D``.
    y : ndarray of shape (n_samples,)
        1 for sequences with a planted motif, maybe mutated; 0 for sequences drawn with equal
        chance among those that hold no exact copy of the motif (near copies, yes).
    positions : ndarray of shape (n_samples,), only if ``return_positions``
        Where the motif starts (-1 for negatives).

    Examples
    --------
    >>> X, y = nl.datasets.dna_motifs(4, length=12, mutation_rate=0.0, seed=0)
    >>> [("TATAAT" in s, label) for s, label in zip(nl.datasets.decode_dna(X), y.tolist())]
    [(False, 0), (True, 1), (True, 1), (False, 0)]
    """
    n = check_number(n_samples, "n_samples", low=1, integer=True)
    if not isinstance(motif, str) or not motif or set(motif.upper()) - set(DNA_BASES):
        raise ValueError(f"motif must be a non-empty string over {DNA_BASES}; got {motif!r}")
    motif = np.array([DNA_BASES.index(b) for b in motif.upper()])
    k = len(motif)
    check_number(length, "length", low=k, integer=True)
    check_size((n, 4, length), f"n_samples={n}, length={length}")
    check_size((length, k, 4), f"a motif of {k} bases in sequences of length={length}",
               "; use a shorter motif or shorter sequences")
    check_number(mutation_rate, "mutation_rate", low=0, high=1)
    check_number(positive_fraction, "positive_fraction", low=0, high=1)
    return_positions = check_bool(return_positions, "return_positions")
    rng = as_rng(seed, "seed")
    y = (rng.permutation(n) < round(positive_fraction * n)).astype(np.int64)
    rows = np.flatnonzero(y)
    codes = np.empty((n, length), dtype=np.int64)
    codes[rows] = rng.integers(0, 4, size=(len(rows), length))
    codes[y == 0] = _without_motif(n - len(rows), length, motif, rng)
    positions = np.full(n, -1)
    positions[rows] = rng.integers(0, length - k + 1, len(rows))
    planted = np.tile(motif, (len(rows), 1))
    mutate = rng.random(planted.shape) < mutation_rate
    # Adding 1 to 3 (mod 4) gives each of the three other bases with equal chance.
    planted = np.where(mutate, (planted + rng.integers(1, 4, planted.shape)) % 4, planted)
    codes[rows[:, None], positions[rows, None] + np.arange(k)] = planted
    X = np.eye(4)[codes].transpose(0, 2, 1)
    return (X, y, positions) if return_positions else (X, y)


def _without_motif(n, length, motif, rng):
    """``n`` sequences of base codes 0-3, each drawn with equal chance among all the
    sequences of ``length`` that do not hold ``motif`` (k base codes).

    Drawing random sequences again until they lack the motif would give the same, but
    could take forever for a short motif: only (3/4)^50, 6e-7, of the sequences of 50
    bases hold no A. Instead the bases are drawn one by one, each in proportion to the
    number of ways the sequence can then be completed without the motif. That number
    depends only on the position and on the state: how many bases of the motif the
    sequence ends with, 0 to k - 1 (k, the whole motif, must not happen), as in the
    Knuth-Morris-Pratt search for the motif.
    """
    k = len(motif)
    # step[s, b]: the state after base b in state s. In state s the sequence ends with
    # motif[:s]; a base other than motif[s] leads where it would from the state of the
    # longest proper end of motif[:s] that starts the motif ("border").
    step = np.zeros((k, 4), dtype=np.int64)
    step[0, motif[0]] = 1
    border = 0
    for s in range(1, k):
        step[s] = step[border]
        step[s, motif[s]] = s + 1
        border = step[border, motif[s]]
    # weights[i, s, b]: in proportion to the number of ways to complete the sequence
    # without the motif after base b at position i in state s (0 if b completes it).
    # From the last position back; each row is divided by its largest value, since only
    # ratios matter and the counts themselves (up to 4^length) would overflow.
    weights = np.empty((length, k, 4))
    free = np.append(np.ones(k), 0.0)    # after the last base, by state; k: motif found
    for i in range(length - 1, -1, -1):
        weights[i] = free[step]
        free[:k] = weights[i].sum(axis=1)
        free[:k] /= free[:k].max()
    codes = np.empty((n, length), dtype=np.int64)
    state = np.zeros(n, dtype=np.int64)
    for i in range(length):
        cumulative = np.cumsum(weights[i, state], axis=1)
        cumulative /= cumulative[:, -1:]   # its last column exactly 1, above any draw
        codes[:, i] = (rng.random((n, 1)) >= cumulative).sum(axis=1)
        state = step[state, codes[:, i]]
    return codes


def decode_dna(X):
    """Turn one-hot sequences of shape (n, 4, length) back into strings.

    Examples
    --------
    >>> nl.datasets.decode_dna(np.eye(4)[[[0, 1, 2, 3]]].transpose(0, 2, 1))
    ['ACGT']
    """
    X = as_float_array(X, "X", ndim=3)
    if X.shape[1] != len(DNA_BASES):
        raise ValueError(f"X must be one-hot, of shape (n, 4, length): one channel per base, a "
                         f"single 1 at each position; got shape {X.shape}")
    columns = (X.sum(axis=1) != 1) | ~np.isin(X, (0, 1)).all(axis=1)
    if columns.any():
        i, j = np.argwhere(columns)[0]
        raise ValueError(f"X must be one-hot: one channel per base, a single 1 at each "
                         f"position; sequence {i}, position {j} holds {X[i, :, j].tolist()}")
    return ["".join(DNA_BASES[i] for i in row) for row in X.argmax(axis=1)]
