"""Gives ``pytest --doctest-modules nnlab`` the names a reader's session has: ``np`` and ``nl``;
and the chapters' kernels what ``make notebooks`` gave them.

The examples in the docstrings run as a reader copies them from the API page
(book/api.md): in a session where ``import numpy as np`` and ``import nnlab as nl`` have
run (tests/test_book_site.py runs them so). doctest gives each example its module's globals
instead, which have no ``nl``.

A run with ``--nbval`` (``pytest --nbval book``) sets ``NNLAB_STATIC_EXPLORERS=1``, which
the notebooks' kernels inherit, as when ``make notebooks`` executed them: their explorers
carry the static version that the stored outputs hold. Other runs leave it alone: the
browser tests' JupyterLab and Voila serve the explorers as a reader's do, without it.
"""

import os

import numpy as np
import pytest

import nnlab as nl


@pytest.fixture(autouse=True)
def reader_session(doctest_namespace):
    """Put ``np`` and ``nl`` into the globals of every doctest."""
    doctest_namespace["np"] = np
    doctest_namespace["nl"] = nl


def pytest_configure(config):
    if config.getoption("nbval", default=False):
        os.environ["NNLAB_STATIC_EXPLORERS"] = "1"
