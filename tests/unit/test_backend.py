"""Backend settings: the embedded default, overrides, and the passphrase rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from stageline.backend import DEFAULT_PASSPHRASE, BackendError, resolve_backend


def test_default_is_a_local_file_backend_with_a_warned_passphrase(tmp_path: Path) -> None:
    backend = resolve_backend(tmp_path, {})
    assert backend.url == f"file://{tmp_path}/.stageline/state"
    assert backend.passphrase == DEFAULT_PASSPHRASE and backend.default_passphrase
    assert backend.warning() and "PULUMI_CONFIG_PASSPHRASE" in backend.warning()
    assert backend.env()["PULUMI_CONFIG_PASSPHRASE"] == DEFAULT_PASSPHRASE


def test_a_given_passphrase_is_used_without_warning(tmp_path: Path) -> None:
    backend = resolve_backend(tmp_path, {"PULUMI_CONFIG_PASSPHRASE": "team-secret"})
    assert backend.passphrase == "team-secret" and backend.warning() is None


def test_passphrase_file(tmp_path: Path) -> None:
    secret = tmp_path / "pass"
    secret.write_text("from-file\n")
    env = {"STAGELINE_BACKEND_URL": "s3://state", "PULUMI_CONFIG_PASSPHRASE_FILE": str(secret)}
    assert resolve_backend(tmp_path, env).passphrase == "from-file"
    with pytest.raises(BackendError, match="PULUMI_CONFIG_PASSPHRASE_FILE"):
        resolve_backend(tmp_path, {"PULUMI_CONFIG_PASSPHRASE_FILE": str(tmp_path / "nope")})


def test_a_shared_diy_backend_refuses_the_default_passphrase(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="set PULUMI_CONFIG_PASSPHRASE"):
        resolve_backend(tmp_path, {"STAGELINE_BACKEND_URL": "s3://team-state"})


def test_a_service_backend_brings_its_own_secrets(tmp_path: Path) -> None:
    backend = resolve_backend(tmp_path, {"PULUMI_BACKEND_URL": "https://api.pulumi.com"})
    assert backend.passphrase is None
    assert "PULUMI_CONFIG_PASSPHRASE" not in backend.env()


def test_stageline_variable_wins_over_pulumis(tmp_path: Path) -> None:
    env = {"STAGELINE_BACKEND_URL": "file:///a", "PULUMI_BACKEND_URL": "file:///b"}
    assert resolve_backend(tmp_path, env).url == "file:///a"


def test_the_default_state_folder_is_made_on_first_use(tmp_path: Path) -> None:
    backend = resolve_backend(tmp_path, {})
    state = tmp_path / ".stageline" / "state"
    assert not state.exists()
    backend.prepare()
    assert state.is_dir() and backend.url == f"file://{state}"
    backend.prepare()  # a second command finds it in place


def test_a_folder_the_user_named_is_not_made_for_them(tmp_path: Path) -> None:
    named = tmp_path / "typo-state"
    env = {"STAGELINE_BACKEND_URL": f"file://{named}", "PULUMI_CONFIG_PASSPHRASE": "p"}
    resolve_backend(tmp_path, env).prepare()
    assert not named.exists()
    assert not (tmp_path / ".stageline").exists()


def test_every_command_reaching_the_backend_gets_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from stageline.cli.context import CliContext
    from stageline.workspace import Project

    for name in ("STAGELINE_BACKEND_URL", "PULUMI_BACKEND_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "p")
    CliContext(Project(tmp_path)).backend  # noqa: B018 - the property is the first use
    assert (tmp_path / ".stageline" / "state").is_dir()
