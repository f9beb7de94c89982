"""Azure and GCP name derivation at its edges, and the stack-name messages word for word."""

from __future__ import annotations

import pytest

from components.azure import naming as azure
from components.gcp import naming as gcp

AZURE_CHARS = "Azure Database for PostgreSQL names take only lowercase letters, digits and hyphens"
GCP_CHARS = (
    "GCP resource names (RFC 1035) take a lowercase letter, then lowercase letters, "
    "digits and hyphens"
)


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("", "stageline"),
        ("--__--", "stageline"),
        ("-Web__App-", "web-app"),
        ("a.b", "a-b"),
        ("a" * 70, "a" * 63),
        # Cut at 63 right after a hyphen: the label must not end in one.
        ("a" * 62 + "_x", "a" * 62),
    ],
)
def test_dns_labels_at_the_edges(name: str, label: str) -> None:
    assert azure.dns_label(name) == label


@pytest.mark.parametrize(
    ("stack", "problem"),
    [
        ("qa", None),
        ("a" * 36, None),
        ("Qa", AZURE_CHARS),
        ("qa-", AZURE_CHARS),
        (
            "a" * 37,
            f"37 characters make names such as {'a' * 37}-observability-logs plus "
            "8 random characters longer than Azure's 63",
        ),
    ],
)
def test_azure_stack_name_messages(stack: str, problem: str | None) -> None:
    assert azure.stack_name_problem(stack) == problem


@pytest.mark.parametrize(
    ("stack", "problem"),
    [
        ("qa", None),
        ("q", None),
        ("a" * 36, None),
        ("1qa", GCP_CHARS),
        ("qa-", GCP_CHARS),
        ("q_a", GCP_CHARS),
        (
            "a" * 37,
            f"37 characters make names such as {'a' * 37}-compute-autoscaler plus "
            "8 random characters longer than GCP's 63",
        ),
    ],
)
def test_gcp_stack_name_messages(stack: str, problem: str | None) -> None:
    assert gcp.stack_name_problem(stack) == problem


@pytest.mark.parametrize(
    ("key", "label"),
    [
        ("Team", "team"),
        ("a1", "a1"),
        ("a-b", "a-b"),
        ("_team", "k-_team"),
        ("", "k-"),
        ("1" * 70, "k-" + "1" * 61),
        ("a" * 70, "a" * 63),
    ],
)
def test_label_keys_at_the_edges(key: str, label: str) -> None:
    assert gcp.label_key(key) == label
