"""The workbook package: its parts found through relationships, damaged parts, and a copy calamine can open.

The workbook part is the target of the package's officeDocument relationship (``_rels/.rels``), which is
``xl/workbook.xml`` when Excel writes it but need not be. calamine (python-calamine 0.9) opens only a
workbook part named ``workbook.xml`` whose styles and shared strings are ``xl/styles.xml`` and
``xl/sharedStrings.xml``, and refuses a whole workbook holding an Excel 4 macro sheet; for those packages
:func:`calamine_copy` writes (in memory) a copy laid out the standard way, without the macro sheets.

A member whose compressed data is damaged (bad CRC, broken or truncated deflate stream) raises
``ReadError("NOT_A_WORKBOOK", "damaged workbook: part X (...)")`` wherever it is read (:func:`read_part`,
:func:`open_part`).
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from defusedxml import ElementTree

from aimport.readers.base import ReadError

__all__ = [
    "DAMAGE",
    "OFFICE_DOCUMENT",
    "PKG_REL",
    "calamine_copy",
    "damaged",
    "needs_copy",
    "open_part",
    "preflight",
    "read_part",
    "related",
    "rels",
    "workbook_part",
]

PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
OFFICE_DOCUMENT = "/officeDocument"  # the end of the relationship type (strict and transitional namespaces)
STANDARD = "xl/workbook.xml"
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SHEET_FOLDERS = ("worksheets/", "macrosheets/", "dialogsheets/")  # read whole later, by the sheet scan
DAMAGE = (zipfile.BadZipFile, zlib.error, EOFError)  # what zipfile raises for a damaged member
SHEET_EL = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
REL_ID_ATTR = re.compile(rb'\s\w+:id\s*=\s*["\']([^"\']*)["\']')  # r:id (never sheetId)


class Package(zipfile.ZipFile):
    """A workbook's zip archive. A few Windows tools write member names with backslashes (``xl\\workbook.xml``);
    Excel and calamine read them as folders, and so does this: every member is also found by its ``/`` name,
    and :meth:`namelist` gives those names."""

    def __init__(self, file: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(file, *args, **kwargs)
        for info in self.infolist():
            if "\\" in info.filename:
                self.NameToInfo.setdefault(info.filename.replace("\\", "/"), info)

    def namelist(self) -> list[str]:
        return [name.replace("\\", "/") for name in super().namelist()]


def damaged(part: str, exc: BaseException) -> ReadError:
    """NOT_A_WORKBOOK naming the damaged part."""
    return ReadError("NOT_A_WORKBOOK", f"damaged workbook: part {part} ({exc or type(exc).__name__}); "
                     "the file was damaged when it was copied or saved: save it again from Excel")


class _Part(io.RawIOBase):
    """A zip member read as a stream; damage in it is a ReadError naming it."""

    def __init__(self, fh: IO[bytes], name: str) -> None:
        self._fh, self.name = fh, name

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        try:
            return self._fh.read(size)
        except DAMAGE as exc:
            raise damaged(self.name, exc) from None

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self._fh.close()
        super().close()


def open_part(zf: zipfile.ZipFile, name: str) -> IO[bytes]:
    """``zf.open(name)`` whose reads raise ``damaged`` (KeyError when there is no such member)."""
    try:
        return _Part(zf.open(name), name)  # type: ignore[return-value]
    except DAMAGE as exc:
        raise damaged(name, exc) from None


def read_part(zf: zipfile.ZipFile, name: str) -> bytes:
    """The whole member (its CRC checked), or ``damaged``; KeyError when there is no such member."""
    try:
        return zf.read(name)
    except DAMAGE as exc:
        raise damaged(name, exc) from None


def related(zf: zipfile.ZipFile, part: str, kind: str) -> Iterator[Any]:
    """The parsed XML of each part that ``part`` relates to by a relationship type ending in ``kind``
    (``/table``, ``/pivotTable``); a relationship to a missing member is passed over."""
    for rel_kind, member in rels(zf, part).values():
        if not rel_kind.endswith(kind):
            continue
        try:
            yield ElementTree.fromstring(read_part(zf, member))
        except KeyError:
            continue


def rels(zf: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, zip member) of ``part``'s relationships ("" : the package's own)."""
    base, name = posixpath.split(part)
    rels_name = posixpath.join(base, "_rels", name + ".rels")
    try:
        root = ElementTree.fromstring(read_part(zf, rels_name))
    except KeyError:
        return {}
    out = {}
    for r in root.iter(PKG_REL):
        if r.get("TargetMode") == "External":
            continue
        target = r.get("Target", "")
        member = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join(base, target))
        out[r.get("Id", "")] = (r.get("Type", ""), member)
    return out


def workbook_part(zf: zipfile.ZipFile) -> str:
    """The workbook part: the officeDocument relationship's target, else ``xl/workbook.xml`` if there is one."""
    names = set(zf.namelist())
    for kind, member in rels(zf, "").values():
        if kind.endswith(OFFICE_DOCUMENT) and member in names:
            return member
    return STANDARD if STANDARD in names else ""


def preflight(path: Path, max_unzipped_bytes: int) -> None:
    """Refuse what is not a safe, undamaged workbook before any XML is parsed.

    Every XML part but the sheets is read whole here (its CRC checked: calamine does not check it); a sheet
    part is read whole when the sheet is read (:func:`sheetlayout.scan_hints`).
    """
    try:
        with open(path, "rb") as fh:
            magic = fh.read(8)
    except PermissionError:
        raise ReadError("FILE_UNREADABLE", "the file cannot be read (permission denied)") from None
    if not magic:
        raise ReadError("EMPTY_FILE", "the file is empty")
    if magic == CFB_MAGIC:
        raise ReadError(
            "ENCRYPTED_WORKBOOK",
            "the workbook is password-protected or in the old binary format: remove the "
            "password and save it as Excel Workbook (.xlsx)",
        )
    if not zipfile.is_zipfile(path):
        raise ReadError("NOT_A_WORKBOOK", "the file is not an Excel workbook (it is not a zip archive)")
    try:
        with Package(path) as zf:
            infos = zf.infolist()
            total = sum(i.file_size for i in infos)
            if total > max_unzipped_bytes:
                raise ReadError(
                    "TOO_LARGE",
                    f"the workbook unpacks to {total // (1 << 20)} MB, above the limit of "
                    f"{max_unzipped_bytes // (1 << 20)} MB (--max-unzipped-mb)",
                )
            for name in zf.namelist():
                if name.endswith((".xml", ".rels")):
                    _check_part(zf, name)
            if not workbook_part(zf):
                raise ReadError("NOT_A_WORKBOOK", "the zip archive is not an Excel workbook (no workbook part: "
                                "no officeDocument relationship in _rels/.rels and no xl/workbook.xml)")
    except zipfile.BadZipFile as exc:
        raise ReadError("NOT_A_WORKBOOK", f"the workbook archive is damaged: {exc}") from None


def _check_part(zf: zipfile.ZipFile, name: str) -> None:
    """No entity declarations; the whole part read (but a sheet's), so damage in it is found now."""
    with open_part(zf, name) as part:
        head = part.read(4096)
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise ReadError("UNSAFE_XML", f"the workbook part {name} declares XML entities (possible XML bomb); refused")
        if not any(f in name for f in SHEET_FOLDERS):
            while part.read(1 << 20):
                pass


def needs_copy(part: str, kinds: list[str]) -> bool:
    """calamine cannot open the package as it is: the workbook part is elsewhere, or a macro sheet is there."""
    return part != STANDARD or "macrosheet" in kinds


def calamine_copy(zf: zipfile.ZipFile, part: str, macro_ids: set[str]) -> io.BytesIO:
    """The package laid out as calamine reads it: the workbook part as ``xl/workbook.xml`` without the sheets
    whose relationship ids are ``macro_ids``, its styles and shared strings at their standard names, and every
    other relationship target absolute. Each member is read whole (CRC checked) and written again."""
    book_rels = rels(zf, part)
    renamed = {}
    for kind, member in book_rels.values():
        if kind.endswith("/styles"):
            renamed[member] = "xl/styles.xml"
        elif kind.endswith("/sharedStrings"):
            renamed[member] = "xl/sharedStrings.xml"
    base, name = posixpath.split(part)
    skip = {part, posixpath.join(base, "_rels", name + ".rels"), "_rels/.rels", STANDARD, "xl/_rels/workbook.xml.rels"}
    body = "".join(
        f'<Relationship Id="{rid}" Type="{kind}" Target="/{renamed.get(member, member)}"/>'
        for rid, (kind, member) in book_rels.items() if rid not in macro_ids)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in zf.infolist():
            if info.filename in skip or info.is_dir() or renamed.get(info.filename, "") in skip:
                continue
            dst.writestr(renamed.get(info.filename, info.filename), read_part(zf, info.filename))
        book = SHEET_EL.sub(lambda m: b"" if _rel_id(m.group(0)) in macro_ids else m.group(0), read_part(zf, part))
        dst.writestr(STANDARD, book)
        dst.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                     f"{body}</Relationships>")
        dst.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                     '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                     '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    out.seek(0)
    return out


def _rel_id(tag: bytes) -> str:
    """The ``r:id`` of a ``<sheet>`` tag."""
    m = REL_ID_ATTR.search(tag)
    return m.group(1).decode("utf-8", "replace") if m else ""
