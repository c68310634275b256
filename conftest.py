"""Gives ``pytest --doctest-modules nnlab`` the names a reader's session has: ``np`` and ``nl``.

The examples in the docstrings run as a reader copies them from the API page
(book/api.md): in a session where ``import numpy as np`` and ``import nnlab as nl`` have
run (tests/test_book_site.py runs them so). doctest gives each example its module's globals
instead, which have no ``nl``.
"""

import numpy as np
import pytest

import nnlab as nl


@pytest.fixture(autouse=True)
def reader_session(doctest_namespace):
    """Put ``np`` and ``nl`` into the globals of every doctest."""
    doctest_namespace["np"] = np
    doctest_namespace["nl"] = nl
