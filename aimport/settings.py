"""Settings: flags override environment variables, which override a TOML file."""

from __future__ import annotations

import codecs
import os
import socket
import tomllib
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from aimport.layout import Layout


class SettingsError(ValueError):
    """A setting is missing or invalid (reported as one line)."""


@dataclass(frozen=True)
class Settings:
    """Every setting of the service, with its default.

    The attribute name is the TOML key; the env variable is ``AIMPORT_`` plus
    the upper-cased name; the flag is ``--`` plus the name with dashes.
    """

    root: Path | None = None  # import root (required for run)
    server: str = field(default_factory=lambda: socket.gethostname().split(".")[0] or "localhost")
    unit: str = "VUBJS"
    state_dir: Path = Path("./state")  # system.sqlite + audit.sqlite, local disk
    max_concurrent: int = 2  # imports at once, all types together
    settle_ms: int = 1000  # size and mtime stable this long before import
    poll: bool = False  # watchfiles polling (network shares)
    poll_ms: int = 500
    rescan_s: float = 60.0  # full rescan interval
    logon_user: str | None = None  # required when enabled
    enabled: bool = True
    campaign_template: str = "Template"
    http: str | None = None  # HOST:PORT for /healthz /readyz /metrics
    http_token: str = field(default="", repr=False)  # the jobs view's token (required off loopback)
    metrics_public: bool = True  # /metrics without the token
    log_format: str = "text"  # text | json
    grace_s: float = 30.0  # shutdown grace period for running imports
    max_pending: int = 1000  # paths held in memory; the folder is the queue
    max_unzipped_mb: int = 1024  # xlsx decompressed size cap (zip-bomb guard)
    audit_retention_days: int = 365
    lag_warn_ms: int = 100  # a heartbeat this late is logged as a warning
    supervise_s: float = 5.0  # campaign supervisor interval
    demo_dialer: bool = False  # simulated call results (demo only)
    demo_rate: float = 5.0  # simulated calls per second
    date_order: str = "auto"  # text dates with / . - separators: auto | DMY | MDY | YMD
    text_fallback_encoding: str = "auto"  # text files without BOM that are not UTF-8: auto (cp1252, MacRoman
    # for CR-only line ends), an encoding, or "none": refuse
    phone_region: str = ""  # two-letter region national phone numbers are read in (FI: 040 ... -> +35840...)
    hidden_rows: str = "import"  # rows hidden by a filter or by hand: import | skip | reject
    store: str = "sqlite"  # sqlite (STATE/system.sqlite) or a postgresql:// URL
    office_hours: str = ""  # e.g. "Mon-Fri 07:30-18:00, Sat 09:00-13:00" (aimport.service.officehours); "": none
    time_zone: str = ""  # IANA zone of office_hours; "": the host's
    office_max_concurrent: int = 1  # the limit in office hours (max_concurrent outside them)
    large_file_rows: int = 0  # files above this many rows wait for the end of office hours (0: off)
    large_file_mb: int = 0  # files above this many MB wait for the end of office hours (0: off)
    stage_helper: bool = True  # a large sheet may be staged by a second process while a core is free
    config: Path | None = None  # the TOML file these came from

    @property
    def layout(self) -> Layout:
        if self.root is None:
            raise SettingsError("--root (AIMPORT_ROOT) is required")
        return Layout(Path(os.path.abspath(self.root)), self.server, self.unit)

    @property
    def store_address(self) -> Path | str:
        """The system store: ``STATE/system.sqlite``, or the ``postgresql://`` URL of a shared server (a libpq
        keyword string becomes that URL); :class:`SettingsError` for a value no command takes
        (:func:`aimport.store.address.resolve` is the one rule)."""
        from aimport.store.address import StoreAddressError, resolve

        try:
            return resolve(self.store, self.state_dir)
        except StoreAddressError as exc:
            raise SettingsError(str(exc)) from None

    @property
    def audit_db(self) -> Path:
        return self.state_dir / "audit.sqlite"

    @property
    def work_dir(self) -> Path:
        return self.state_dir / "work"

    def validate_for_run(self) -> None:
        self.layout  # noqa: B018 - raises when root is missing
        if self.enabled and not self.logon_user:
            raise SettingsError(
                "automatic import is enabled but no logon user is set "
                "(--logon-user or AIMPORT_LOGON_USER)"
            )
        if self.max_concurrent < 1:
            raise SettingsError("--max-concurrent must be at least 1")
        if self.office_max_concurrent < 1:
            raise SettingsError("--office-max-concurrent must be at least 1")
        if self.large_file_rows < 0 or self.large_file_mb < 0:
            raise SettingsError("--large-file-rows and --large-file-mb must be 0 (off) or more")
        if self.log_format not in ("text", "json"):
            raise SettingsError("--log-format must be text or json")
        self.check_store()

    def check_store(self) -> None:
        """Raise :class:`SettingsError` when no command could use the store setting (``aimport run`` checks at start)."""
        self.store_address  # noqa: B018 - resolving it is the check


@dataclass(frozen=True)
class SettingDoc:
    """What a setting means, for ``--help`` and the generated settings reference (docs/reference/settings.md)."""

    meaning: str
    default: str | None = None  # shown instead of the field's default (e.g. "host name" for a computed one)


# One entry per Settings field (a test fails when one is missing): the single place a setting is explained.
SETTING_DOCS: dict[str, SettingDoc] = {
    "root": SettingDoc("import root folder; the drop folders are `ROOT/SERVER_UNIT/Automatic/<Type>/`", "required"),
    "server": SettingDoc("server name, first part of the SERVER_UNIT folder", "host name"),
    "unit": SettingDoc("Batch Job Server virtual unit, second part of SERVER_UNIT"),
    "state_dir": SettingDoc("holds system.sqlite, audit.sqlite, work/ and service.json; keep it on local disk, "
                            "not on the share", "./state"),
    "max_concurrent": SettingDoc("imports running at once, all types together (SIGHUP reloads it from the TOML file)"),
    "settle_ms": SettingDoc("size and mtime must be stable this long before a file is taken"),
    "poll": SettingDoc("poll the folders instead of using file-system events (network shares)", "off"),
    "poll_ms": SettingDoc("polling interval with --poll"),
    "rescan_s": SettingDoc("full rescan interval in seconds"),
    "logon_user": SettingDoc("the user imports act as; needs the rights ImportExport and ManageCampaigns",
                             "required when enabled"),
    "enabled": SettingDoc("automatic import on; disabled: no folder is watched (a log line says so), the campaign "
                          "supervisor and health checks keep running", "enabled"),
    "campaign_template": SettingDoc("campaign whose settings new campaigns copy"),
    "http": SettingDoc("HOST:PORT (or PORT, loopback) serving /healthz, /readyz, /metrics and the jobs view at /",
                       "off"),
    "http_token": SettingDoc("token the jobs view (/ and /api/*) requires, as `Authorization: Bearer TOKEN` or typed "
                             "into the page once; needed on a non-loopback --http address (without it the view is off "
                             "there, /healthz and /readyz stay open); environment or TOML only (a flag would show it "
                             "in the process list)", "none"),
    "metrics_public": SettingDoc("/metrics is open to anyone who reaches the port; false: it needs the token like the "
                                 "jobs view (Prometheus: `authorization: {credentials: TOKEN}`)", "true"),
    "log_format": SettingDoc("text, or json: one JSON object per line, for containers"),
    "grace_s": SettingDoc("seconds running imports get to finish on SIGTERM/SIGINT"),
    "max_pending": SettingDoc("file paths held in memory; the folder is the queue"),
    "max_unzipped_mb": SettingDoc("refuse workbooks that unpack to more than this many MB (zip-bomb guard)"),
    "audit_retention_days": SettingDoc("finished audit rows older than this many days are pruned"),
    "lag_warn_ms": SettingDoc("an event-loop heartbeat this many ms late is logged as a warning"),
    "supervise_s": SettingDoc("campaign supervisor interval in seconds"),
    "demo_dialer": SettingDoc("SIMULATION ONLY: random call results for Active campaigns", "off"),
    "demo_rate": SettingDoc("simulated calls per second with --demo-dialer"),
    "date_order": SettingDoc("how text dates with / . - separators are read: DMY, MDY, YMD, or auto (a date that "
                             "reads two ways, like 03/04/2027, is a rejected row)"),
    "text_fallback_encoding": SettingDoc("encoding of a text file without BOM that is not UTF-8 (a WARNING says "
                                         "so): auto reads it as cp1252 (Windows), or as MacRoman when its lines "
                                         "end in CR only (an old Mac Excel text file); an encoding name such as "
                                         "cp1252 or latin-1 is always used; none: such a file fails BAD_ENCODING"),
    "phone_region": SettingDoc("two-letter region (ISO 3166, e.g. FI, US, GB) that national phone numbers are read "
                               "in: with FI, `040 123 4567` is stored as `+358401234567`; without it, numbers "
                               "written with + or 00 are stored in E.164 and national numbers as their digits "
                               "(a WARNING names this setting)", "none"),
    "hidden_rows": SettingDoc("rows hidden by a filter or by hand: import (counted in the .result and named in a "
                              "WARNING), skip (left out, counted) or reject (each one a rejected row)"),
    "store": SettingDoc("the system store: sqlite (STATE/system.sqlite, one instance), or "
                        "postgresql://USER@HOST:PORT/DB shared by several units; the password comes from "
                        "AIMPORT_STORE_PASSWORD or a libpq pgpass/service file and is never logged"),
    "office_hours": SettingDoc("the contact center's office hours, e.g. `Mon-Fri 07:30-18:00, Sat 09:00-13:00` "
                               "(wall-clock times in time_zone; see Office hours): office_max_concurrent applies "
                               "in them and large files wait for their end", "none"),
    "time_zone": SettingDoc("IANA time zone of office_hours, e.g. Europe/Helsinki", "the host's zone"),
    "office_max_concurrent": SettingDoc("imports running at once during office_hours (max_concurrent applies "
                                        "outside them; SIGHUP reloads both)"),
    "large_file_rows": SettingDoc("a file estimated above this many data rows that arrives in office hours waits "
                                  "in its drop folder until they end (`aimport release FILE` starts it now); "
                                  "OutboundCampaign files never wait", "0 (off)"),
    "large_file_mb": SettingDoc("the same for a file above this many MB", "0 (off)"),
    "stage_helper": SettingDoc("a large sheet is staged by a second process while a core is free (about 30 % "
                               "faster staging, 13-16 MB more memory during that import); false (--no-stage-helper): "
                               "every import stays in one process, for a tight memory limit", "true"),
}


_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _convert(name: str, raw: Any) -> Any:
    kinds = {f.name: f.type for f in fields(Settings)}
    kind = str(kinds[name])
    try:
        if "Path" in kind:
            return None if raw in (None, "") else Path(str(raw)).expanduser()
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            return _BOOL[str(raw).strip().lower()]
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return None if raw is None else str(raw)
    except (KeyError, ValueError):
        raise SettingsError(f"invalid value for {name}: {raw!r}") from None


def _checked(name: str, value: Any) -> Any:
    """Settings with a fixed set of values, in their canonical spelling (every command, not only run)."""
    if name == "date_order":
        canon = {o.lower(): o for o in ("auto", "DMY", "MDY", "YMD")}
        if str(value).strip().lower() not in canon:
            raise SettingsError(f"invalid value for date_order: {value!r} (use auto, DMY, MDY or YMD)")
        return canon[str(value).strip().lower()]
    if name == "phone_region":
        return _phone_region(value)
    if name == "hidden_rows":
        text = str(value).strip().lower()
        if text not in ("import", "skip", "reject"):
            raise SettingsError(f"invalid value for hidden_rows: {value!r} (use import, skip or reject)")
        return text
    if name == "time_zone":  # the zone office_hours are read in (aimport.service.officehours.zone_of)
        text = str(value).strip()
        try:
            if text and text.upper() != "UTC":
                zoneinfo.ZoneInfo(text)
        except (KeyError, ValueError, OSError):
            raise SettingsError(f"invalid value for time_zone: {value!r} (an IANA zone name such as "
                                "Europe/Helsinki, UTC, or empty for the host's zone)") from None
        return text
    if name == "text_fallback_encoding":
        text = str(value).strip().lower()
        if text in ("none", "auto"):
            return text
        try:
            info = codecs.lookup(text)
        except LookupError:
            raise SettingsError(f"invalid value for text_fallback_encoding: {value!r} "
                                "(an encoding such as cp1252 or latin-1, or none)") from None
        if info.name.startswith(("utf-16", "utf-32")) or "\n".encode(info.name) != b"\n":
            raise SettingsError(f"invalid value for text_fallback_encoding: {value!r} "
                                "(the fallback must be a one-byte encoding such as cp1252, or none)")
        return info.name
    return value


def _phone_region(value: Any) -> str:
    """A two-letter region phonenumbers knows (upper-cased), or "" (none)."""
    text = str(value).strip().upper()
    if not text:
        return ""
    import phonenumbers

    if text not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"invalid value for phone_region: {value!r} (a two-letter region such as FI, SE, "
                            "US or GB, or empty for none)")
    return text


def setting_names() -> list[str]:
    return [f.name for f in fields(Settings) if f.name != "config"]


def from_sources(
    flags: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> Settings:
    """Merge TOML < environment < flags (``None`` flag values are unset)."""
    env = os.environ if env is None else env
    flags = dict(flags or {})
    cfg_path = config or flags.pop("config", None) or env.get("AIMPORT_CONFIG") or None
    values: dict[str, Any] = {}
    if cfg_path:
        values.update(read_toml(Path(cfg_path)))
    for name in setting_names():
        key = "AIMPORT_" + name.upper()
        if key in env and env[key] != "":
            values[name] = env[key]
    for name, value in flags.items():
        if value is not None and name in setting_names():
            values[name] = value
    converted = {k: _checked(k, _convert(k, v)) for k, v in values.items()}
    if cfg_path:
        converted["config"] = Path(cfg_path)
    return replace(Settings(), **converted)


def read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from None
    section = data.get("aimport", data)
    out = {}
    for key, value in section.items():
        name = key.replace("-", "_")
        if name not in setting_names():
            raise SettingsError(f"unknown setting {key!r} in {path}")
        out[name] = value
    return out
