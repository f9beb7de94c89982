"""`release_of`: the contract's release read through ReleaseManifest, strictly."""

from __future__ import annotations

import click
import pytest
from pulumi import automation as auto

from components.contract import KEY_RELEASE, ReleaseManifest
from stageline.cli.promote import describe
from stageline.cli.up import release_of

RELEASE = {"appVersion": "1.4.2", "artifact": "app-1.4.2.tar.gz", "templateRevision": "tpl-abc"}


def test_a_release_output_is_a_manifest() -> None:
    found = release_of("qa", {KEY_RELEASE: auto.OutputValue(RELEASE, False)})
    assert found == ReleaseManifest("1.4.2", "app-1.4.2.tar.gz", "tpl-abc")
    assert describe(found) == "1.4.2 (app-1.4.2.tar.gz, tpl-abc)"


def test_no_release_output_is_none() -> None:
    assert release_of("qa", {"other": auto.OutputValue(1, False)}) is None
    assert describe(None) == "nothing"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({**RELEASE, "artifact": ""}, "release output lacks artifact"),
        ({"appVersion": "1.4.2"}, "release output lacks artifact, templateRevision"),
        ("1.4.2", "release output is str, not an object"),
    ],
)
def test_a_malformed_release_names_the_stage_and_the_fix(value: object, problem: str) -> None:
    with pytest.raises(click.ClickException) as caught:
        release_of("qa", {KEY_RELEASE: auto.OutputValue(value, False)})
    message = caught.value.message
    assert "stage 'qa'" in message and problem in message, message
    assert "`stageline up qa`" in message, message
