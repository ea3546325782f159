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
