"""What each setting means: one declaration per :class:`aimport.settings.Settings` field, read by ``--help``
(:mod:`aimport.cli.common`) and by the generated settings reference (docs/reference/settings.md,
``scripts/gen_docs``); a test fails when a field has none."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SETTING_DOCS", "SettingDoc"]


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
