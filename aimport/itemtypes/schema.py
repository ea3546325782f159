"""The records that declare an item type: its fields, identification and storage."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Field kinds understood by aimport.itemtypes.values.parse
KINDS = ("text", "int", "enum", "bool", "date", "timezone", "hours", "dates", "phone", "ref", "refs", "levels", "list")


def norm_header(text: Any) -> str:
    """Header key: case-insensitive, spaces, ``_`` and ``-`` ignored."""
    return re.sub(r"[\s_\-]+", "", str(text or "")).lower()


@dataclass(frozen=True)
class Field:
    """One column of an import file and its column in the store."""

    name: str  # header as written in templates and exports, e.g. "ExternalId"
    kind: str = "text"
    mandatory: bool = False
    description: str = ""
    choices: tuple[str, ...] = ()  # enum / list values (matched case-insensitively)
    min: int | None = None
    max: int | None = None
    ref: str | None = None  # target item type key for ref / refs / levels
    max_length: int | None = None
    aliases: tuple[str, ...] = ()

    @cached_property
    def column(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.name).lower().replace(" ", "_")

    @property
    def is_link(self) -> bool:
        """Stored in a link table (many targets) rather than a column."""
        return self.kind in ("refs", "levels")

    def keys(self) -> set[str]:
        return {norm_header(self.name), *(norm_header(a) for a in self.aliases)}


RowCheck = Callable[[dict[str, Any]], "str | None"]


@dataclass(frozen=True)
class ItemType:
    """A declarative import type; adding a type means adding one of these."""

    key: str  # "skill"
    label: str  # "skill" (for messages)
    table: str  # store table
    fields: tuple[Field, ...]
    identification: tuple[tuple[str, ...], ...]  # field names, tried in order; ("Id",) first
    folder: str | None = None  # drop folder, None when only in Configuration
    sheet: str | None = None  # sheet name in the Configuration workbook
    config_order: int | None = None  # position in the Configuration workbook
    ref_key: str = "Name"  # the field other types use to refer to this one
    mandatory_any: tuple[str, ...] = ()  # at least one of these must be set
    row_check: RowCheck | None = None  # extra per-row validation of the whole object; returns a reason
    check_fields: tuple[str, ...] = ()  # the fields row_check reads (a file without them is checked in the store)
    creates_only: bool = False  # every row creates (campaign customers): the header needs every mandatory column
    warn_without: str | None = None  # warn once when this column is missing
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def field(self, name: str) -> Field:
        return self._by_name[name]

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    @cached_property
    def data_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.name != "Id")

    @cached_property
    def column_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.data_fields if not f.is_link)

    @cached_property
    def link_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.data_fields if f.is_link)

    def link_table(self, f: Field) -> str:
        return f"{self.table}__{f.column}"

    def header_map(self) -> dict[str, Field]:
        out: dict[str, Field] = {}
        for f in self.fields:
            for k in f.keys():  # noqa: SIM118 - Field.keys() is its own method (header spellings), not a dict
                out[k] = f
        out[norm_header("Delete")] = DELETE
        return out


ID = Field("Id", "int", description="internal id of an existing object (not portable between systems)", min=1)
DELETE = Field("Delete", "text", description="D deletes the object identified by the row")
