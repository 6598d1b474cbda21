"""insightface `.rec/.idx` and `.bin` readers, against packs written here by an independent writer."""

from __future__ import annotations

import os
import pickle
import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch.utils.data

from training.insightface_rec import (
    MAGIC,
    RecDataset,
    RecordFile,
    decode_image,
    load_bin,
    unpack_record,
)

MAGIC_BYTES = struct.pack("<I", MAGIC)


def write_record(handle, payload: bytes) -> None:
    """dmlc-core's RecordIOWriter::WriteRecord: split at 4-aligned magics, pad to 4 bytes."""
    start = 0
    for i in range(0, len(payload) // 4 * 4, 4):
        if payload[i : i + 4] == MAGIC_BYTES:
            flag = 1 if start == 0 else 2
            handle.write(struct.pack("<II", MAGIC, (flag << 29) | (i - start)) + payload[start:i])
            start = i + 4
    flag = 3 if start else 0
    handle.write(struct.pack("<II", MAGIC, (flag << 29) | (len(payload) - start)))
    handle.write(payload[start:] + b"\0" * (-len(payload) % 4))


def pack_header(label, payload: bytes = b"", id_: int = 0) -> bytes:
    """mxnet.recordio.pack: a float label, or a label array stored after the header."""
    if np.ndim(label) == 0:
        return struct.pack("<IfQQ", 0, float(label), id_, 0) + payload
    label = np.asarray(label, dtype="<f4")
    return struct.pack("<IfQQ", len(label), 0.0, id_, 0) + label.tobytes() + payload


def write_rec(prefix: Path, payloads: list[bytes], with_idx: bool = True) -> Path:
    rec = prefix.with_suffix(".rec")
    lines = []
    with open(rec, "wb") as handle:
        for key, payload in enumerate(payloads):
            lines.append(f"{key}\t{handle.tell()}\n")
            write_record(handle, payload)
    if with_idx:
        prefix.with_suffix(".idx").write_text("".join(lines))
    return rec


def chip(value: int, size: int = 16) -> np.ndarray:
    image = np.zeros((size, size, 3), dtype=np.uint8)
    image[..., 0], image[..., 1], image[..., 2] = value, 255 - value, 40  # R, G, B
    return image


def png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image[:, :, ::-1])
    assert ok
    return data.tobytes()


def insightface_set(tmp_path: Path, labels: list[int], with_idx: bool = True) -> Path:
    """Record 0 = header (images 1..n, identity records n+1..); then images; then identities."""
    n, identities = len(labels), sorted(set(labels))
    payloads = [pack_header([n + 1, n + 1 + len(identities)])]
    payloads += [pack_header(float(y), png(chip(10 * i)), i + 1) for i, y in enumerate(labels)]
    payloads += [
        pack_header([1 + labels.index(y), 1 + n - labels[::-1].index(y)]) for y in identities
    ]
    return write_rec(tmp_path / "train", payloads, with_idx)


@pytest.mark.parametrize("with_idx", [True, False])
def test_rec_dataset_round_trip(tmp_path, with_idx):
    labels = [0, 0, 1, 2, 2, 2]
    dataset = RecDataset(insightface_set(tmp_path, labels, with_idx))
    assert len(dataset) == 6 and dataset.num_classes == 3 and dataset.classes == [0, 1, 2]
    for i, label in enumerate(labels):
        image, got = dataset[i]
        assert got == label and image.dtype == torch.uint8
        np.testing.assert_array_equal(image.permute(1, 2, 0).numpy(), chip(10 * i))
    np.testing.assert_array_equal(dataset.labels, labels)


def test_rec_dataset_feeds_a_dataloader(tmp_path):
    dataset = RecDataset(insightface_set(tmp_path, [0, 1, 1, 0]))
    images, labels = next(iter(torch.utils.data.DataLoader(dataset, batch_size=4)))
    assert images.shape == (4, 3, 16, 16) and images.dtype == torch.uint8
    assert labels.tolist() == [0, 1, 1, 0]


def test_rec_without_header_record_uses_every_key(tmp_path):
    payloads = [pack_header(3.0, png(chip(3))), pack_header([5.0, 7.0], png(chip(5)))]
    dataset = RecDataset(write_rec(tmp_path / "plain", payloads))
    assert len(dataset) == 2 and [dataset[i][1] for i in range(2)] == [3, 5]
    assert dataset.labels.tolist() == [3, 5] and dataset.num_classes == 6


def test_record_containing_the_magic_is_rejoined(tmp_path):
    payloads = [
        MAGIC_BYTES + b"abcd" + MAGIC_BYTES + MAGIC_BYTES + b"xyz",  # first, middle, last parts
        b"tail" + MAGIC_BYTES,
        b"ab" + MAGIC_BYTES + b"!",  # unaligned: not split
        b"",
    ]
    records = RecordFile(write_rec(tmp_path / "magic", payloads))
    assert [records.read(key) for key in records.keys()] == payloads
    assert RecordFile(tmp_path / "magic.rec", tmp_path / "missing.idx").offsets == records.offsets


def test_array_label_header_unpacks():
    header, rest = unpack_record(pack_header([2.0, 9.0, 4.0], b"img", id_=7))
    assert header.flag == 3 and header.id == 7 and rest == b"img"
    np.testing.assert_array_equal(header.label, [2.0, 9.0, 4.0])


def test_corrupt_rec_is_refused(tmp_path):
    bad = tmp_path / "bad.rec"
    bad.write_bytes(b"\0" * 16)
    with pytest.raises(ValueError, match="magic"):
        RecordFile(bad)


def python2_pickle(images: list[bytes], issame: list[bool]) -> bytes:
    """The opcodes Python 2 wrote for insightface's packs: str as BINSTRING, bools as NEWTRUE."""
    out = [b"\x80\x02]("]  # PROTO 2, EMPTY_LIST, MARK
    out += [b"T" + struct.pack("<I", len(image)) + image for image in images]
    out += [b"e](", *(b"\x88" if same else b"\x89" for same in issame), b"e\x86."]
    return b"".join(out)  # APPENDS, EMPTY_LIST, MARK, bools, APPENDS, TUPLE2, STOP


def test_bin_round_trip(tmp_path):
    images = [png(chip(v)) for v in (0, 50, 100, 150)]
    path = tmp_path / "pack.bin"
    for data in (python2_pickle(images, [True, False]), pickle.dumps((images, [True, False]))):
        path.write_bytes(data)
        pack = load_bin(path)
        assert pack.images == images and pack.issame.tolist() == [True, False]
        np.testing.assert_array_equal(decode_image(pack.images[1]), chip(50))


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_bin_refuses_a_pickle_that_names_a_global(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.bin"
    path.write_bytes(pickle.dumps(([_Exploit(marker), b"x"], [True])))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_bin(path)
    assert not marker.exists()


def test_bin_with_numpy_labels_is_refused(tmp_path):
    path = tmp_path / "numpy.bin"
    path.write_bytes(pickle.dumps(([b"a", b"b"], np.array([True]))))
    with pytest.raises(pickle.UnpicklingError):
        load_bin(path)


def test_bin_with_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "odd.bin"
    path.write_bytes(pickle.dumps(([b"a", b"b", b"c"], [True])))
    with pytest.raises(ValueError, match="3 images for 1 pairs"):
        load_bin(path)
