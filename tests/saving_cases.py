"""Models, model files and tampered copies of them, shared by the test_saving modules."""

import io
import json
import re
import struct
import zipfile

import numpy as np
import pytest

import nnlab as nl
from nnlab.saving import ModelFileError


def small_model():
    model = nl.Sequential([nl.Dense(2, 3, rng=0), nl.BatchNorm(3), nl.Activation("relu"),
                           nl.Residual(nl.Dense(3, 3, rng=1)), nl.Dropout(0.1),
                           nl.Dense(3, 1, rng=2)])
    model.compile("mse", "adam", metrics=["mae"])
    return model


@pytest.fixture
def good(tmp_path):
    return small_model().save(tmp_path / "good")


def members(path):
    """The bytes of every member of a zip file, by name."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_zip(path, contents, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def npy(array):
    """``array`` as the bytes of a .npy file."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def header_of(path):
    return json.loads(members(path)["__nnlab__.npy"][128:].decode("utf-32-le").rstrip("\0"))


def with_header(good, target, header, **arrays):
    """A copy of the file ``good`` with ``header`` (an object, or JSON text) and ``arrays``
    (member name: bytes) in place of its own."""
    contents = members(good)
    text = header if isinstance(header, str) else json.dumps(header)
    contents["__nnlab__.npy"] = npy(np.array(text))
    contents.update({f"{key}.npy": data for key, data in arrays.items()})
    return write_zip(target, contents)


def edited(good, target, edit, **arrays):
    header = header_of(good)
    edit(header)
    return with_header(good, target, header, **arrays)


def loading_fails(path, fragment):
    with pytest.raises(ModelFileError, match=re.escape(fragment)):
        nl.load_model(path)


def set_directory_field(path, member, offset, fmt, value):
    """Overwrite a field of ``member``'s entry in the zip's central directory."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while raw[at + 46:at + 46 + len(member)] != member.encode():
        at = raw.find(b"PK\x01\x02", at + 1)
    struct.pack_into(fmt, raw, at + offset, *value)
    path.write_bytes(bytes(raw))
    return path
