"""Gives ``pytest --doctest-modules nnlab`` the names a reader's session has: ``np`` and ``nl``;
and the chapters' kernels what ``make notebooks`` gave them.

The examples in the docstrings run as a reader copies them from the API page
(book/api.md): in a session where ``import numpy as np`` and ``import nnlab as nl`` have
run (tests/test_book_site.py runs them so). doctest gives each example its module's globals
instead, which have no ``nl``.

The notebooks' kernels (nbval, ``pytest --nbval book``) inherit
``NNLAB_STATIC_EXPLORERS=1``, as when ``make notebooks`` executed them: their explorers
carry the static version that the stored outputs hold.
"""

import os

import numpy as np
import pytest

import nnlab as nl

os.environ["NNLAB_STATIC_EXPLORERS"] = "1"


@pytest.fixture(autouse=True)
def reader_session(doctest_namespace):
    """Put ``np`` and ``nl`` into the globals of every doctest."""
    doctest_namespace["np"] = np
    doctest_namespace["nl"] = nl
