"""The item type declarations and their lookup (the schema of every import type)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from aimport.itemtypes.schema import ID, Field, ItemType, norm_header

RIGHTS = ("ImportExport", "ManageCampaigns", "ManageUsers", "ManageQueues", "Supervise", "Report", "Agent")


def _choice_needs_options(row: dict[str, Any]) -> str | None:
    if row.get("AnswerType") == "Choice" and not row.get("Options"):
        return "Options: a Choice question needs its options (';'-separated)"
    return None


def _listable_name(row: dict[str, Any]) -> str | None:
    """Skills and queues are named in ';'-separated lists, so their names cannot hold ';'."""
    if ";" in (row.get("Name") or ""):
        return "Name: cannot contain ';' (it separates the names in Skills and Queues lists)"
    return None


CALENDAR = ItemType(
    key="calendar", label="calendar", table="calendars", folder="Calendar", sheet="Calendars", config_order=0,
    fields=(
        ID,
        Field("Name", mandatory=True, description="calendar name (unique)", max_length=200),
        Field("Description", max_length=2000),
        Field("TimeZone", "timezone", description="IANA time zone, e.g. Europe/Helsinki"),
        Field("OpeningHours", "hours", description="e.g. Mon-Fri 08:00-17:00; Sat 09:00-13:00"),
        Field("Holidays", "dates", description="ISO dates, ';'-separated"),
    ),
    identification=(("Id",), ("Name",)),
)
SKILL = ItemType(
    key="skill", label="skill", table="skills", folder="Skills", sheet="Skills", config_order=1,
    fields=(ID, Field("Name", mandatory=True, description="skill name (unique, no ';')", max_length=200), Field("Description", max_length=2000)),
    identification=(("Id",), ("Name",)),
    row_check=_listable_name,
    check_fields=("Name",),
)
PRESENCE = ItemType(
    key="presence", label="presence profile", table="presence_profiles", folder="Presence",
    sheet="PresenceProfiles", config_order=2,
    fields=(
        ID,
        Field("Name", mandatory=True, description="presence profile name (unique)", max_length=200),
        Field("Description", max_length=2000),
        Field("Status", "enum", choices=("Available", "Busy", "Away", "Offline")),
    ),
    identification=(("Id",), ("Name",)),
)
SCRIPT = ItemType(
    key="script", label="script question", table="script_questions", folder="Scripts", sheet="Scripts",
    config_order=3, ref_key="Script",
    fields=(
        ID,
        Field("Script", mandatory=True, description="script name", max_length=200),
        Field("QuestionId", mandatory=True, description="question id, unique within the script", max_length=100),
        Field("Question", mandatory=True, description="question text", max_length=2000),
        Field("AnswerType", "enum", choices=("Text", "Number", "Date", "Choice")),
        Field("Options", description="';'-separated options; needed when AnswerType is Choice", max_length=2000),
        Field("Mandatory", "bool", description="Yes or No"),
    ),
    identification=(("Id",), ("Script", "QuestionId")),
    row_check=_choice_needs_options,
    check_fields=("AnswerType", "Options"),
)
QUEUE = ItemType(
    key="queue", label="queue", table="queues", folder="Queues", sheet="Queues", config_order=4,
    fields=(
        ID,
        Field("ExternalId", description="portable id from another system", max_length=200),
        Field("Name", mandatory=True, description="queue name (unique, no ';')", max_length=200),
        Field("Description", max_length=2000),
        Field("Channel", "enum", choices=("Voice", "Chat", "Email")),
        Field("Calendar", "ref", ref="calendar", description="name of an existing calendar"),
        Field("Skills", "refs", ref="skill", description="skill names, ';'-separated"),
        Field("Priority", "int", min=1, max=10),
    ),
    identification=(("Id",), ("ExternalId",), ("Name",)),
    row_check=_listable_name,
    check_fields=("Name",),
)
USER_GROUP = ItemType(
    key="usergroup", label="user group", table="user_groups", folder="UserGroup", sheet="UserGroups",
    # not in the Configuration workbook (the seed's list): a Users sheet refers to groups already in the store
    fields=(
        ID,
        Field("ExternalId", description="portable id from another system", max_length=200),
        Field("Name", mandatory=True, description="group name (unique)", max_length=200),
        Field("Description", max_length=2000),
        Field("Parent", "ref", ref="usergroup", description="name of the parent group (no cycles)"),
    ),
    identification=(("Id",), ("ExternalId",), ("Name",)),
)
DIRECTORY = ItemType(
    key="directory", label="directory entry", table="directory_entries", folder="Directory", sheet="Directory",
    ref_key="ExternalId",
    fields=(
        ID,
        Field("ExternalId", description="portable id; without it every row creates a new entry", max_length=200),
        Field("FirstName", max_length=200),
        Field("LastName", max_length=200),
        Field("Company", max_length=200),
        Field("Phone", "phone"),
        Field("Mobile", "phone"),
        Field("Email", max_length=320),
        Field("Department", max_length=200),
        Field("DirectoryGroup", max_length=200),
    ),
    identification=(("Id",), ("ExternalId",)),
    mandatory_any=("FirstName", "LastName", "Company"),
    warn_without="ExternalId",
)
BLOCKED = ItemType(
    key="blocked", label="blocked number", table="blocked_numbers", folder="BlockedNumbers",
    sheet="BlockedNumbers", ref_key="Number",
    fields=(
        ID,
        Field("Number", "phone", mandatory=True, description="stored in E.164 (+358401234567; see phone_region); matches however either side is written"),
        Field("Description", max_length=2000),
        Field("ValidUntil", "date", description="the number is blocked until this date"),
    ),
    identification=(("Id",), ("Number",)),
)
USER = ItemType(
    key="user", label="user", table="users", folder=None, sheet="Users", config_order=5, ref_key="Login",
    fields=(
        ID,
        Field("ExternalId", description="portable id from another system", max_length=200),
        Field("Login", mandatory=True, description="logon name (unique)", max_length=200),
        Field("FirstName", mandatory=True, max_length=200),
        Field("Surname", mandatory=True, max_length=200),
        Field("Email", max_length=320),
        Field("UserGroup", "ref", ref="usergroup",
              description="name of a user group already in the store (groups import through the UserGroup folder)"),
        Field("PresenceProfile", "ref", ref="presence", description="name of an existing presence profile"),
        Field("Queues", "refs", ref="queue", description="queue names, ';'-separated"),
        Field("Skills", "levels", ref="skill", description="skill:level pairs, ';'-separated, level 1..10"),
        Field("Rights", "list", choices=RIGHTS, description="';'-separated: " + ", ".join(RIGHTS)),
    ),
    identification=(("Id",), ("ExternalId",), ("Login",)),
)

ALL_TYPES: tuple[ItemType, ...] = (CALENDAR, SKILL, PRESENCE, SCRIPT, QUEUE, USER_GROUP, DIRECTORY, BLOCKED, USER)

# the customers of an outbound campaign file: every row creates (aimport.campaigns.importer); not a store table
CUSTOMER = ItemType(
    key="customer", label="customer", table="customers", folder="OutboundCampaign", ref_key="ExternalId",
    fields=(
        Field("ExternalId", mandatory=True, description="customer id, unique in the campaign", max_length=200),
        Field("Phone1", "phone", mandatory=True, description="first number to call"),
        Field("Phone2", "phone"), Field("Phone3", "phone"),
        Field("FirstName", max_length=200), Field("LastName", max_length=200), Field("Company", max_length=200),
        Field("Priority", "int", min=1, max=10, description="1..10"),
        Field("TimeZone", "timezone", description="IANA time zone of the customer"),
    ),
    identification=(("ExternalId",),),
    creates_only=True,
)
# every kind of file a header can belong to: the wrong-folder hint compares a header with each of them
HINT_TYPES: tuple[ItemType, ...] = (*ALL_TYPES, CUSTOMER)


@dataclass(frozen=True)
class Catalog:
    """Lookup of item types by key, folder and Configuration sheet name."""

    types: tuple[ItemType, ...] = ALL_TYPES

    def by_key(self, key: str) -> ItemType:
        for t in self.types:
            if t.key == key:
                return t
        raise KeyError(key)

    def for_folder(self, folder: str) -> ItemType | None:
        for t in self.types:
            if t.folder == folder:
                return t
        return None

    def config_types(self) -> list[ItemType]:
        """Configuration workbook sheets, in dependency order."""
        ts = [t for t in self.types if t.config_order is not None]
        return sorted(ts, key=lambda t: t.config_order or 0)

    def config_sheet(self, sheet_name: str) -> ItemType | None:
        key = norm_header(sheet_name)
        for t in self.config_types():
            if t.sheet and norm_header(t.sheet) == key:
                return t
        return None

    def not_configuration(self, sheet_name: str) -> ItemType | None:
        """A folder-only type that a sheet name means (a UserGroups sheet in a Configuration workbook)."""
        k = norm_header(sheet_name)
        for t in self.types:
            if t.config_order is None and k in {norm_header(x) for x in (t.sheet or "", t.folder or "", t.label + "s")}:
                return t
        return None

    def resolve_name(self, name: str) -> ItemType:
        """A type by key, folder or sheet name, leniently (for the CLI)."""
        k = norm_header(name)
        for t in self.types:
            if k in {norm_header(x) for x in (t.key, t.folder or "", t.sheet or "", t.label, t.table)}:
                return t
        raise KeyError(name)

    def all(self) -> Iterable[ItemType]:
        return self.types


CATALOG = Catalog()
