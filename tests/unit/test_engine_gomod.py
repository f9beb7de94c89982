"""The wrapper modules read by `go mod edit -json`, and the build's pure helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from stageline.engine.gobuild import registry_only
from stageline.engine.gomod import PKG_MODULE, SDK_MODULE, GoModError, pinned_version, read_go_mod
from stageline.engine.layout import WRAPPER_DIR


@pytest.fixture(scope="module")
def go() -> str:
    """The engine build needs Go, and so does reading its pin: no Go is a failure here."""
    found = shutil.which("go")
    if found is None:
        pytest.fail("`go` is not on PATH: install Go (the engine is built with it)")
    return found


GO_MOD = f"""// a comment naming {PKG_MODULE} v0.0.0, which is no requirement
module example.com/wrapper

go 1.26.6

require {SDK_MODULE} v3.274.1 // the single-line form

require (
\t{PKG_MODULE} v3.274.1
\tcel.dev/expr v0.25.3 // indirect
)
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "go.mod"
    path.write_text(text)
    return path


def test_every_require_form_is_read_and_comments_are_not(tmp_path: Path, go: str) -> None:
    go_mod = read_go_mod(go, _write(tmp_path, GO_MOD))
    assert go_mod.go == "1.26.6"
    assert dict(go_mod.requires) == {
        SDK_MODULE: "v3.274.1",
        PKG_MODULE: "v3.274.1",
        "cel.dev/expr": "v0.25.3",
    }
    assert pinned_version(go_mod) == "v3.274.1"


def test_pkg_and_sdk_at_two_releases_is_refused_naming_both(tmp_path: Path, go: str) -> None:
    text = GO_MOD.replace(f"{SDK_MODULE} v3.274.1", f"{SDK_MODULE} v3.270.0")
    with pytest.raises(GoModError, match=r"at one version \(found v3\.274\.1 and v3\.270\.0\)"):
        pinned_version(read_go_mod(go, _write(tmp_path, text)))


def test_a_broken_go_mod_is_an_error_naming_the_file(tmp_path: Path, go: str) -> None:
    path = _write(tmp_path, "module example.com/x\nrequire (\n")
    with pytest.raises(GoModError, match="go mod edit -json") as caught:
        read_go_mod(go, path)
    assert str(path) in str(caught.value)


def test_a_missing_go_mod_says_where_it_belongs(tmp_path: Path) -> None:
    with pytest.raises(GoModError, match="is missing: run from a stageline checkout"):
        read_go_mod("go", tmp_path / "go.mod")


def test_the_checkout_pins_one_release_in_its_wrapper_module(go: str) -> None:
    assert pinned_version() == "v3.274.1"
    assert read_go_mod(go, WRAPPER_DIR / "go.mod").go == "1.26.6"


@pytest.mark.parametrize(
    ("goproxy", "expected"),
    [
        ("https://proxy.golang.org,direct", "https://proxy.golang.org"),
        ("https://a.example|https://b.example|direct", "https://a.example,https://b.example"),
        ("direct", "off"),
        ("", "off"),
    ],
)
def test_the_build_never_falls_back_to_a_vcs_host(goproxy: str, expected: str) -> None:
    assert registry_only(goproxy) == expected
