"""The shared libraries an ELF file names (DT_NEEDED), read without binutils or ldd.

Used by packaging/ibticket.spec (to leave out libraries nothing in the bundle links) and by
packaging/check_bundle.py (to map what the bundle needs from the system to Debian packages).
"""

from __future__ import annotations

import struct
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SHT_DYNAMIC = 6
DT_NULL = 0
DT_NEEDED = 1


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


def needed(path: Path) -> list[str]:
    """DT_NEEDED names of a 64- or 32-bit, little- or big-endian ELF file; [] for one with none."""
    data = Path(path).read_bytes()
    if data[:4] != ELF_MAGIC:
        raise ValueError(f"{path} is not an ELF file")
    wide = data[4] == 2
    order = "<" if data[5] == 1 else ">"
    if wide:
        shoff, = struct.unpack_from(order + "Q", data, 0x28)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x3A)
    else:
        shoff, = struct.unpack_from(order + "I", data, 0x20)
        shentsize, shnum = struct.unpack_from(order + "HH", data, 0x2E)
    sections = []
    for index in range(shnum):
        at = shoff + index * shentsize
        if wide:
            _name, kind, _flags, _addr, offset, size, link = struct.unpack_from(order + "IIQQQQI", data, at)
        else:
            _name, kind, _flags, _addr, offset, size, link = struct.unpack_from(order + "IIIIIII", data, at)
        sections.append((kind, offset, size, link))
    names: list[str] = []
    for kind, offset, size, link in sections:
        if kind != SHT_DYNAMIC:
            continue
        strtab_offset = sections[link][1]
        entry = struct.Struct(order + ("qQ" if wide else "iI"))
        for at in range(offset, offset + size, entry.size):
            tag, value = entry.unpack_from(data, at)
            if tag == DT_NULL:
                break
            if tag == DT_NEEDED:
                end = data.index(b"\0", strtab_offset + value)
                names.append(data[strtab_offset + value:end].decode())
    return names
