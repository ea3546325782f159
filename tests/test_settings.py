from pathlib import Path

import pytest

from aimport.settings import SettingsError, from_sources


def test_flags_override_env_override_toml(tmp_path: Path) -> None:
    cfg = tmp_path / "a.toml"
    cfg.write_text('max_concurrent = 5\nunit = "TOML"\nserver = "tomlhost"\nsettle_ms = 10\n')
    s = from_sources({"max_concurrent": 7}, env={"AIMPORT_UNIT": "ENV", "AIMPORT_MAX_CONCURRENT": "6"}, config=cfg)
    assert (s.max_concurrent, s.unit, s.server, s.settle_ms) == (7, "ENV", "tomlhost", 10)


def test_env_config_path_and_bools(tmp_path: Path) -> None:
    cfg = tmp_path / "b.toml"
    cfg.write_text("[aimport]\npoll = true\n")
    s = from_sources({}, env={"AIMPORT_CONFIG": str(cfg), "AIMPORT_ENABLED": "false"})
    assert s.poll is True and s.enabled is False


def test_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="invalid value for max_concurrent"):
        from_sources({}, env={"AIMPORT_MAX_CONCURRENT": "many"})
    bad = tmp_path / "c.toml"
    bad.write_text("nonsense = 1\n")
    with pytest.raises(SettingsError, match="unknown setting 'nonsense'"):
        from_sources({}, env={}, config=bad)
    s = from_sources({"root": tmp_path}, env={})
    with pytest.raises(SettingsError, match="no logon user"):
        s.validate_for_run()


async def test_the_stage_helper_can_be_turned_off_for_a_tight_memory_limit(tmp_path: Path) -> None:
    """stage_helper (flag --no-stage-helper, AIMPORT_STAGE_HELPER, TOML) reaches every ImportRequest: off, no
    import starts the second process; on (the default), only while a core is free."""
    import anyio

    from aimport.cli import build_parser
    from aimport.cli.common import settings_from
    from aimport.service.importjob import make_request
    from aimport.service.jobcontext import JobContext

    def request(s: object, running: int) -> bool:
        limiter = anyio.CapacityLimiter(4)
        for i in range(running):
            limiter.acquire_on_behalf_of_nowait(i)
        ctx = JobContext(settings=s, layout=s.layout, audit=None, audit_uuid="u",  # type: ignore[arg-type,attr-defined]
                         limiter=limiter)
        return make_request(ctx, 1, tmp_path / "x.txt", "Directory").stage_helper

    base = {"root": tmp_path, "state_dir": tmp_path}
    on = from_sources(base, env={})
    assert on.stage_helper is True and request(on, 0) and not request(on, 2)
    cfg = tmp_path / "m.toml"
    cfg.write_text("stage_helper = false\n")
    for s in (from_sources(base, env={"AIMPORT_STAGE_HELPER": "false"}),
              from_sources(base, env={}, config=cfg),
              settings_from(build_parser().parse_args(["run", "--root", str(tmp_path), "--no-stage-helper"]), env={})):
        assert s.stage_helper is False and not request(s, 0)
    assert from_sources(base, env={"AIMPORT_STAGE_HELPER": "true"}, config=cfg).stage_helper is True
