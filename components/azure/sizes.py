"""Abstract size classes mapped to Azure SKUs, and the catalogues `compute.sku` and
`database.sku` are checked against. Imports no Azure SDK."""

from __future__ import annotations

VM_SIZES: dict[str, str] = {
    "xsmall": "Standard_B1ms",
    "small": "Standard_B2s",
    "medium": "Standard_D2s_v5",
    "large": "Standard_D4s_v5",
    "xlarge": "Standard_D8s_v5",
}

POSTGRES_SKUS: dict[str, str] = {
    "xsmall": "Standard_B1ms",
    "small": "Standard_B2s",
    "medium": "Standard_D2ds_v5",
    "large": "Standard_D4ds_v5",
    "xlarge": "Standard_E8ds_v5",
}


def _sizes(template: str, vcpus: tuple[int, ...]) -> set[str]:
    return {template.format(n) for n in vcpus}


_BURSTABLE = {
    "Standard_B1s",
    "Standard_B1ms",
    "Standard_B2s",
    "Standard_B2ms",
    "Standard_B4ms",
    "Standard_B8ms",
    "Standard_B12ms",
    "Standard_B16ms",
    "Standard_B20ms",
}
_D_VCPUS = (2, 4, 8, 16, 32, 48, 64, 96)
_E_VCPUS = (2, 4, 8, 16, 20, 32, 48, 64, 96)

VM_CATALOGUE: frozenset[str] = frozenset(
    _BURSTABLE
    | _sizes("Standard_D{}s_v5", _D_VCPUS)
    | _sizes("Standard_D{}as_v5", _D_VCPUS)
    | _sizes("Standard_D{}ds_v5", _D_VCPUS)
    | _sizes("Standard_E{}s_v5", _E_VCPUS)
    | _sizes("Standard_E{}as_v5", _E_VCPUS)
    | _sizes("Standard_F{}s_v2", (2, 4, 8, 16, 32, 48, 64, 72))
)
"""VM sizes the scale set accepts: burstable, general purpose, memory and compute optimized."""

POSTGRES_TIERS: dict[str, frozenset[str]] = {
    "Burstable": frozenset(_BURSTABLE - {"Standard_B1s"}),
    "GeneralPurpose": frozenset(
        _sizes("Standard_D{}ds_v5", _D_VCPUS)
        | _sizes("Standard_D{}ads_v5", _D_VCPUS)
        | _sizes("Standard_D{}s_v3", (2, 4, 8, 16, 32, 48, 64))
    ),
    "MemoryOptimized": frozenset(
        _sizes("Standard_E{}ds_v5", _E_VCPUS)
        | _sizes("Standard_E{}ads_v5", _E_VCPUS)
        | _sizes("Standard_E{}s_v3", (2, 4, 8, 16, 20, 32, 48, 64))
    ),
}
"""Flexible Server SKUs by the tier Azure files them under; the tier is derived, never set."""

POSTGRES_STORAGE_GB = (32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767)
"""The disk sizes Flexible Server offers; a spec's storageGb is rounded up to one of them."""


def postgres_tier(sku: str) -> str | None:
    return next((tier for tier, skus in POSTGRES_TIERS.items() if sku in skus), None)


def postgres_storage_gb(requested: int) -> int:
    """The smallest Flexible Server disk that holds `requested` GiB (validated to exist)."""
    return next(size for size in POSTGRES_STORAGE_GB if size >= requested)
