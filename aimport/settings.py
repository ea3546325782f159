"""Settings: flags override environment variables, which override a TOML file."""

from __future__ import annotations

import os
import socket
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

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
    log_format: str = "text"  # text | json
    grace_s: float = 30.0  # shutdown grace period for running imports
    max_pending: int = 1000  # paths held in memory; the folder is the queue
    max_unzipped_mb: int = 1024  # xlsx decompressed size cap (zip-bomb guard)
    audit_retention_days: int = 365
    lag_warn_ms: int = 100  # a heartbeat this late is logged as a warning
    supervise_s: float = 5.0  # campaign supervisor interval
    demo_dialer: bool = False  # simulated call results (demo only)
    demo_rate: float = 5.0  # simulated calls per second
    config: Path | None = None  # the TOML file these came from

    @property
    def layout(self) -> Layout:
        if self.root is None:
            raise SettingsError("--root (AIMPORT_ROOT) is required")
        return Layout(Path(os.path.abspath(self.root)), self.server, self.unit)

    @property
    def system_db(self) -> Path:
        return self.state_dir / "system.sqlite"

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
        if self.log_format not in ("text", "json"):
            raise SettingsError("--log-format must be text or json")


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
    converted = {k: _convert(k, v) for k, v in values.items()}
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
