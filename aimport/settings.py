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
