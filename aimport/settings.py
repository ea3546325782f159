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
    revert_days: int = 30  # before-images of an import are kept this long (aimport revert, aimport changes)
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
    store_turn_timeout: float = 30.0  # seconds an import waits for its write turn, then it is deferred (PostgreSQL)
    store_idle_timeout: float = 60.0  # the server ends a store transaction idle this long (a frozen holder)
    store_lock_timeout: float = 60.0  # a store statement waits this long for a row or table lock
    office_hours: str = ""  # e.g. "Mon-Fri 07:30-18:00, Sat 09:00-13:00" (aimport.service.officehours.schedule); "": none
    time_zone: str = ""  # IANA zone of office_hours; "": the host's
    office_max_concurrent: int = 1  # the limit in office hours (max_concurrent outside them)
    large_file_rows: int = 0  # files above this many rows wait for the end of office hours (0: off)
    large_file_mb: int = 0  # files above this many MB wait for the end of office hours (0: off)
    stage_helper: bool = True  # a large sheet may be staged by a second process while a core is free
    notify_url: str = field(default="", repr=False)  # webhook told of failed/partial imports, held files, exports,
    # start and stop (aimport.service.notify); it holds a secret: shown as scheme://host/… only
    notify_format: str = "json"  # json | slack | teams: the body's shape
    notify_held_after_min: int = 60  # a file held this long is told once (0: never)
    notify_timeout_s: float = 10.0  # one webhook request at most
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
        self.check_notify()
        if min(self.store_turn_timeout, self.store_idle_timeout, self.store_lock_timeout) <= 0:
            raise SettingsError("--store-turn-timeout, --store-idle-timeout and --store-lock-timeout must be more "
                                "than 0 seconds")
        self.check_store()

    def check_notify(self) -> None:
        """Raise :class:`SettingsError` for a notify_url that is not http(s) (the message never shows its secret)."""
        from aimport.service.notify.webhook import WebhookUrlError, check

        if self.notify_url:
            try:
                check(self.notify_url)
            except WebhookUrlError as exc:
                raise SettingsError(str(exc)) from None
        if self.notify_held_after_min < 0:
            raise SettingsError("--notify-held-after-min must be 0 (never) or more")
        if self.notify_timeout_s <= 0:
            raise SettingsError("--notify-timeout-s must be more than 0")

    def check_store(self) -> None:
        """Raise :class:`SettingsError` when no command could use the store setting (``aimport run`` checks at start)."""
        self.store_address  # noqa: B018 - resolving it is the check


@dataclass(frozen=True)
class SettingDoc:
    """What a setting means, for ``--help`` and the generated settings reference (docs/reference/settings.md)."""

    meaning: str
    default: str | None = None  # shown instead of the field's default (e.g. "host name" for a computed one)
    when: str = ""  # when to change it (the settings reference; a generic line when empty)


# One entry per Settings field (a test fails when one is missing): the single place a setting is explained.
SETTING_DOCS: dict[str, SettingDoc] = {
    "root": SettingDoc("import root folder; the drop folders are `ROOT/SERVER_UNIT/Automatic/<Type>/`", "required",
        when="always for `aimport run`: the share the Batch Job Server reads and writes (`scripts/run` "
             "uses ./import-root); the other commands take it from what `aimport run` recorded in the "
             "state directory"),
    "server": SettingDoc("server name, first part of the SERVER_UNIT folder", "host name",
        when="when the folder's server part is not this host's short name, e.g. in a container whose "
             "host name is generated, or for a sidecar that serves another server's folder"),
    "unit": SettingDoc("Batch Job Server virtual unit, second part of SERVER_UNIT",
        when="when the Batch Job Server's virtual unit is not VUBJS (one service per SERVER_UNIT "
             "folder)"),
    "state_dir": SettingDoc("holds system.sqlite, audit.sqlite, work/ and service.json; keep it on local disk, "
                            "not on the share", "./state",
        when="when ./state is not on a local disk, or to run two services on one host (each needs its "
             "own)"),
    "max_concurrent": SettingDoc("imports running at once, all types together (SIGHUP reloads it from the TOML file)",
        when="raise it when files queue in busy hours while cores and memory are free (keep it at or "
             "below the number of cores); lower it to 1 when imports must not compete with the contact "
             "center (see Tuning)"),
    "settle_ms": SettingDoc("size and mtime must be stable this long before a file is taken",
        when="raise it when a writer pauses longer than this in the middle of a copy (slow network "
             "links), so a half-written file is not taken"),
    "poll": SettingDoc("poll the folders instead of using file-system events (network shares)", "off",
        when="when the drop folders are on a network share (SMB, NFS) whose changes raise no "
             "file-system events on this host"),
    "poll_ms": SettingDoc("polling interval with --poll",
        when="with --poll: raise it to take load off a slow share (a file is then seen up to this much "
             "later)"),
    "rescan_s": SettingDoc("full rescan interval in seconds",
        when="lower it when a share loses events and files wait for the rescan; raise it for a very "
             "large folder tree on a slow share"),
    "logon_user": SettingDoc("the user imports act as; needs the rights ImportExport and ManageCampaigns",
                             "required when enabled",
        when="always while automatic import is enabled: the contact center's user that imports act as "
             "(`scripts/run` uses admin)"),
    "enabled": SettingDoc("automatic import on; disabled: no folder is watched (a log line says so), the campaign "
                          "supervisor and health checks keep running", "enabled",
        when="turn it off (--disabled) to stop automatic import on this unit while campaigns stay "
             "supervised and the health checks answer, e.g. during maintenance"),
    "campaign_template": SettingDoc("campaign whose settings new campaigns copy",
        when="when the contact center's template campaign has another name"),
    "http": SettingDoc("HOST:PORT (or PORT, loopback) serving /healthz, /readyz, /metrics and the jobs view at /",
                       "off",
        when="to use the jobs view, the health checks or Prometheus: e.g. 127.0.0.1:8080, or "
             "0.0.0.0:8080 in a container (with http_token)"),
    "http_token": SettingDoc("token the jobs view (/ and /api/*) requires, as `Authorization: Bearer TOKEN` or typed "
                             "into the page once; needed on a non-loopback --http address (without it the view is off "
                             "there, /healthz and /readyz stay open); environment or TOML only (a flag would show it "
                             "in the process list)", "none",
        when="whenever --http listens beyond loopback: a long random value, in the environment or the "
             "TOML file"),
    "metrics_public": SettingDoc("/metrics is open to anyone who reaches the port; false: it needs the token like the "
                                 "jobs view (Prometheus: `authorization: {credentials: TOKEN}`)", "true",
        when="set it to false when the port is reachable from networks that should not see file counts "
             "and timings"),
    "log_format": SettingDoc("text, or json: one JSON object per line, for containers",
        when="json when a log collector reads the output (containers)"),
    "grace_s": SettingDoc("seconds running imports get to finish on SIGTERM/SIGINT",
        when="raise it when large imports are often running at shutdown; keep the stop timeout of "
             "systemd or Docker longer than this"),
    "max_pending": SettingDoc("file paths held in memory; the folder is the queue",
        when="rarely: a larger burst waits in the folder and the next rescan finds it"),
    "max_unzipped_mb": SettingDoc("refuse workbooks that unpack to more than this many MB (zip-bomb guard)",
        when="raise it when genuine large workbooks are refused as too big unpacked; lower it on a "
             "host with little memory"),
    "revert_days": SettingDoc("what an import changed (its before-images) is kept this many days: until then "
                              "`aimport changes ID` lists it and `aimport revert ID` puts it back; pruned daily "
                              "by the service with the audit trail",
        when="raise it when imports must stay revertible longer (the store keeps the old values of every changed "
             "field that long); lower it when the system store grows too large"),
    "audit_retention_days": SettingDoc("finished audit rows older than this many days are pruned",
        when="lower it when STATE/audit.sqlite grows too large; raise it when your audit policy keeps "
             "records longer"),
    "lag_warn_ms": SettingDoc("an event-loop heartbeat this many ms late is logged as a warning",
        when="raise it on a slow or busy host where the warnings are noise; lower it to look for "
             "stalls"),
    "supervise_s": SettingDoc("campaign supervisor interval in seconds",
        when="rarely: lower it for a quicker export of completed campaigns (the demo uses 1)"),
    "demo_dialer": SettingDoc("SIMULATION ONLY: random call results for Active campaigns", "off",
        when="only to demonstrate the campaign loop without a contact center; never in production"),
    "demo_rate": SettingDoc("simulated calls per second with --demo-dialer",
        when="with --demo-dialer, to make a demo campaign finish sooner or later"),
    "date_order": SettingDoc("how text dates with / . - separators are read: DMY, MDY, YMD, or auto (a date that "
                             "reads two ways, like 03/04/2027, is a rejected row)",
        when="when your spreadsheets write dates as text in one known order (DMY in most of Europe, "
             "MDY in the US), so that dates like 03/04/2027 are imported instead of rejected"),
    "text_fallback_encoding": SettingDoc("encoding of a text file without BOM that is not UTF-8 (a WARNING says "
                                         "so): auto reads it as cp1252 (Windows), or as MacRoman when its lines "
                                         "end in CR only (an old Mac Excel text file); an encoding name such as "
                                         "cp1252 or latin-1 is always used; none: such a file fails BAD_ENCODING",
        when="when text files come from a system with another one-byte encoding (e.g. latin-1, "
             "cp1250), or none to refuse every text file that is not UTF-8"),
    "phone_region": SettingDoc("two-letter region (ISO 3166, e.g. FI, US, GB) that national phone numbers are read "
                               "in: with FI, `040 123 4567` is stored as `+358401234567`; without it, numbers "
                               "written with + or 00 are stored in E.164 and national numbers as their digits "
                               "(a WARNING names this setting)", "none",
        when="when files hold national numbers without a country code: your country, e.g. FI"),
    "hidden_rows": SettingDoc("rows hidden by a filter or by hand: import (counted in the .result and named in a "
                              "WARNING), skip (left out, counted) or reject (each one a rejected row)",
        when="skip when hidden rows are drafts or notes that must not be imported; reject to make each "
             "one an error the sender sees"),
    "store": SettingDoc("the system store: sqlite (STATE/system.sqlite, one instance), or "
                        "postgresql://USER@HOST:PORT/DB shared by several units; the password comes from "
                        "AIMPORT_STORE_PASSWORD or a libpq pgpass/service file and is never logged",
        when="when several units share one system store: a postgresql:// URL (see Several units)"),
    "store_turn_timeout": SettingDoc("seconds an import waits for the write turn of the tables it writes (PostgreSQL); "
                                     "then it is deferred, not failed: the file stays in InProcess/, an "
                                     "import_deferred event names the unit holding the turn, and it is retried "
                                     "with backoff",
        when="lower it so a unit notices a stuck holder sooner; raise it when big files of one type meet "
             "often and deferrals are noise (see Several units)"),
    "store_idle_timeout": SettingDoc("seconds a store transaction may sit idle before the PostgreSQL server ends it "
                                     "(idle_in_transaction_session_timeout): a frozen or cut-off holder gives its "
                                     "write turn back, and its import is run again or found applied, once",
        when="keep it above the longest pause an import makes inside its transaction (hashing a large file "
             "again before COMMIT); lower it to free a stuck turn sooner"),
    "store_lock_timeout": SettingDoc("seconds a store statement waits for a row or table lock (PostgreSQL "
                                     "lock_timeout) before the import is deferred and retried",
        when="rarely: raise it when campaign supervision and imports meet on the same rows for longer"),
    "office_hours": SettingDoc("the contact center's office hours, e.g. `Mon-Fri 07:30-18:00, Sat 09:00-13:00` "
                               "(wall-clock times in time_zone; see Office hours): office_max_concurrent applies "
                               "in them and large files wait for their end", "none",
        when="when imports must not slow the contact center down during its working hours"),
    "time_zone": SettingDoc("IANA time zone of office_hours, e.g. Europe/Helsinki", "the host's zone",
        when="when the host's zone is not the contact center's (containers often run in UTC)"),
    "office_max_concurrent": SettingDoc("imports running at once during office_hours (max_concurrent applies "
                                        "outside them; SIGHUP reloads both)",
        when="raise it when files queue in office hours and the host has cores to spare"),
    "large_file_rows": SettingDoc("a file estimated above this many data rows that arrives in office hours waits "
                                  "in its drop folder until they end (`aimport release FILE` starts it now); "
                                  "OutboundCampaign files never wait", "0 (off)",
        when="to keep very large files out of office hours, e.g. 50000; 0 imports every file at once"),
    "large_file_mb": SettingDoc("the same for a file above this many MB", "0 (off)",
        when="the same as large_file_rows when a size is easier to state than a row count"),
    "stage_helper": SettingDoc("a large sheet is staged by a second process while a core is free (about 30 % "
                               "faster staging, 13-16 MB more memory during that import); false (--no-stage-helper): "
                               "every import stays in one process, for a tight memory limit", "true",
        when="turn it off (--no-stage-helper) for a tight memory limit, e.g. a small container"),
    "notify_url": SettingDoc("webhook URL (http:// or https://) that gets a POST for each failed or partial import, "
                             "a file held longer than notify_held_after_min, each exported campaign, and the "
                             "service's start and stop (see Notifications); it holds a secret: logs show "
                             "scheme://host/… only; prefer the environment or the TOML file (a flag shows it in "
                             "the process list)", "none",
        when="to be told in a chat channel (Slack, Teams) or by your own receiver when an import fails, "
             "instead of watching the jobs view"),
    "notify_format": SettingDoc("the body of each notification: json (aimport's own object), slack (a Slack "
                                "incoming webhook's message) or teams (a Teams webhook's Adaptive Card)",
        when="when notify_url is a Slack or Teams channel's webhook: slack or teams"),
    "notify_held_after_min": SettingDoc("a large file held in its drop folder this many minutes is notified once "
                                        "(0: never)",
        when="lower it when a held file must be noticed sooner; 0 when holding files is expected"),
    "notify_timeout_s": SettingDoc("seconds one webhook request may take; a slower receiver is tried again later "
                                   "(with backoff, for up to an hour), imports never wait for it",
        when="raise it for a receiver that is slow to answer"),

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
    if name == "notify_format":
        text = str(value).strip().lower()
        if text not in ("json", "slack", "teams"):
            raise SettingsError(f"invalid value for notify_format: {value!r} (use json, slack or teams)")
        return text
    if name == "hidden_rows":
        text = str(value).strip().lower()
        if text not in ("import", "skip", "reject"):
            raise SettingsError(f"invalid value for hidden_rows: {value!r} (use import, skip or reject)")
        return text
    if name == "time_zone":  # the zone office_hours are read in (aimport.service.officehours.schedule.zone_of)
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
