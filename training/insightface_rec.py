"""insightface's data formats read without mxnet: `.rec/.idx` training sets and `.bin` test packs.

RecordIO (dmlc-core): each record is `uint32 magic 0xced7230a`, `uint32 lrec` (top 3 bits a
continuation flag, low 29 bits the length), the payload, zero padding to 4 bytes. A payload that
itself contains the magic at a 4-byte boundary is split there into parts flagged 1 (first),
2 (middle), 3 (last); reading rejoins the parts with the magic between them. The `.idx` is text,
one `key<TAB>byte offset` line per record.

Each payload is an IRHeader, struct `<IfQQ` = (flag, label, id, id2), then the image bytes
(JPEG). flag > 0 means the label is an array of `flag` float32 values stored right after the
header. insightface's record 0 is a header only, label = (first identity record, end): images
are keys 1..label[0]-1, identity records label[0]..label[1]-1, so the identity count is
label[1] - label[0].

A `.bin` pack (lfw.bin, cfp_fp.bin, agedb_30.bin) is a pickle of (list of encoded images,
list of bool), the images paired consecutively. A pickle can call any importable function
while loading (`os.system` included), and a pack typically comes from a mirror nobody audits,
while the data itself needs no class at all: bytes, lists, tuples and bools have their own
opcodes. So it is read with an unpickler that refuses every global.
"""

from __future__ import annotations

import mmap
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch.utils.data

MAGIC = 0xCED7230A
_LREC = struct.Struct("<II")
_IR_HEADER = struct.Struct("<IfQQ")


@dataclass(frozen=True)
class IRHeader:
    flag: int
    label: float | np.ndarray
    id: int
    id2: int


def unpack_record(payload: bytes) -> tuple[IRHeader, bytes]:
    """Split a record payload into its IRHeader and the image bytes after it."""
    flag, label, id_, id2 = _IR_HEADER.unpack_from(payload)
    rest = payload[_IR_HEADER.size :]
    if flag > 0:
        label = np.frombuffer(rest, dtype="<f4", count=flag).copy()
        rest = rest[4 * flag :]
    return IRHeader(flag, label, id_, id2), rest


def decode_image(data: bytes) -> np.ndarray:
    """Encoded JPEG/PNG bytes -> RGB uint8 (H, W, 3)."""
    image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError("image bytes could not be decoded")
    return np.ascontiguousarray(image[:, :, ::-1])


def read_index(idx_path: str | Path) -> dict[int, int]:
    """The `.idx` file: record key -> byte offset in the `.rec`."""
    index = {}
    for line in Path(idx_path).read_text().splitlines():
        if line.strip():
            key, offset = line.split("\t")
            index[int(key)] = int(offset)
    return index


class RecordFile:
    """Random access to the records of a `.rec`, by key (via the `.idx`, or a scan without one).

    The file is memory-mapped on first read and re-mapped in each process (pickling drops the
    map), so one instance can be handed to DataLoader workers.
    """

    def __init__(self, rec_path: str | Path, idx_path: str | Path | None = None) -> None:
        self.rec_path = Path(rec_path)
        idx = Path(idx_path) if idx_path else self.rec_path.with_suffix(".idx")
        self._map: mmap.mmap | None = None
        self.offsets = read_index(idx) if idx.exists() else dict(enumerate(self._scan()))

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_map": None}

    def __len__(self) -> int:
        return len(self.offsets)

    def keys(self) -> list[int]:
        return sorted(self.offsets)

    def read(self, key: int) -> bytes:
        """The whole payload of record `key`, parts rejoined."""
        payload, _ = self._read_at(self.offsets[key])
        return payload

    def head(self, key: int, size: int) -> bytes:
        """The first `size` payload bytes of record `key`, without copying the rest."""
        offset = self.offsets[key]
        _, lrec = _LREC.unpack_from(self._mapped(), offset)
        if (lrec & ((1 << 29) - 1)) < size:  # a split record: rejoin it
            return self.read(key)[:size]
        return self._mapped()[offset + _LREC.size : offset + _LREC.size + size]

    def _mapped(self) -> mmap.mmap:
        if self._map is None:
            with open(self.rec_path, "rb") as handle:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        return self._map

    def _read_at(self, offset: int) -> tuple[bytes, int]:
        """(payload, offset of the next record)."""
        data = self._mapped()
        parts = []
        while True:
            if offset + _LREC.size > len(data):
                raise ValueError(f"{self.rec_path}: truncated record at byte {offset}")
            magic, lrec = _LREC.unpack_from(data, offset)
            if magic != MAGIC:
                raise ValueError(f"{self.rec_path}: no RecordIO magic at byte {offset}")
            flag, length = lrec >> 29, lrec & ((1 << 29) - 1)
            start = offset + _LREC.size
            parts.append(data[start : start + length])
            offset = start + (length + 3) // 4 * 4
            if flag in (0, 3):
                return struct.pack("<I", MAGIC).join(parts), offset

    def _scan(self) -> list[int]:
        offsets, offset = [], 0
        size = self.rec_path.stat().st_size
        while offset < size:
            offsets.append(offset)
            _, offset = self._read_at(offset)
        return offsets


def _label_of(header: IRHeader) -> int:
    return int(header.label if header.flag == 0 else header.label[0])


_HEAD_SIZE = _IR_HEADER.size + 4  # the header and the first float of an array label


def _label_in_head(head: bytes) -> int:
    flag, label, _, _ = _IR_HEADER.unpack_from(head)
    return int(label if flag == 0 else struct.unpack_from("<f", head, _IR_HEADER.size)[0])


class RecDataset(torch.utils.data.Dataset):
    """An insightface `.rec/.idx` training set, shaped like `training.data`'s datasets.

    Items are (chip (3, H, W) uint8 RGB tensor, int label); `labels`, `num_classes` and
    `classes` are there too. `num_classes` comes from the header record (key 0) when the set has
    one, as insightface's sets do, else from the labels. `labels` reads every record's header
    (no image decoding) on first use and is cached.
    """

    def __init__(self, rec_path: str | Path, idx_path: str | Path | None = None) -> None:
        self.records = RecordFile(rec_path, idx_path)
        self._num_classes: int | None = None
        self._labels: np.ndarray | None = None
        keys = self.records.keys()
        if not keys:
            raise ValueError(f"{rec_path}: no records")
        header, _ = unpack_record(self.records.read(keys[0]))
        if keys[0] == 0 and header.flag > 0:
            first_identity, end = int(header.label[0]), int(header.label[1])
            self.image_keys = np.arange(1, first_identity)
            self._num_classes = end - first_identity
        else:
            self.image_keys = np.array(keys)

    def __len__(self) -> int:
        return len(self.image_keys)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        header, image = unpack_record(self.records.read(int(self.image_keys[index])))
        chip = torch.from_numpy(decode_image(image)).permute(2, 0, 1)
        return chip, _label_of(header)

    @property
    def labels(self) -> np.ndarray:
        if self._labels is None:
            heads = (self.records.head(int(key), _HEAD_SIZE) for key in self.image_keys)
            self._labels = np.array([_label_in_head(head) for head in heads], dtype=np.int64)
        return self._labels

    @property
    def num_classes(self) -> int:
        if self._num_classes is None:
            self._num_classes = int(self.labels.max()) + 1
        return self._num_classes

    @property
    def classes(self) -> list[int]:
        return list(range(self.num_classes))


class _NoGlobalsUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        raise pickle.UnpicklingError(
            f"refusing {module}.{name}: a .bin pack holds only bytes, lists and bools, "
            "and a pickle that names a global could run code while loading"
        )


@dataclass(frozen=True)
class BinPack:
    """A verification pack: encoded images, pair k is (images[2k], images[2k+1])."""

    images: list[bytes]
    issame: np.ndarray


def load_bin(path: str | Path) -> BinPack:
    """Read an insightface `.bin` pack safely (no globals: see the module docstring)."""
    with open(path, "rb") as handle:
        try:
            data = _NoGlobalsUnpickler(handle, encoding="bytes").load()
        except pickle.UnpicklingError:
            raise
        except (EOFError, ValueError, TypeError, LookupError, OverflowError, MemoryError) as error:
            # random or damaged bytes: the unpickler fails in many ways, none of them a pack
            raise ValueError(f"{path}: not an insightface .bin pack ({error!r:.200})") from error
    if not (isinstance(data, tuple | list) and len(data) == 2):
        raise ValueError(f"{path}: expected (images, issame), got {type(data).__name__}")
    images, issame = data
    if not (isinstance(images, list | tuple) and isinstance(issame, list | tuple | np.ndarray)):
        raise ValueError(f"{path}: expected lists of images and of pair flags")
    if not all(isinstance(image, bytes | bytearray) for image in images):
        raise ValueError(f"{path}: images must be encoded bytes")
    if len(images) != 2 * len(issame):
        raise ValueError(f"{path}: {len(images)} images for {len(issame)} pairs")
    if not all(isinstance(flag, bool | int) for flag in issame):
        raise ValueError(f"{path}: issame must be booleans")
    return BinPack(images=[bytes(image) for image in images], issame=np.array(issame, dtype=bool))
