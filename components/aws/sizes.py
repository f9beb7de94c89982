"""Abstract size classes mapped to AWS instance types."""

from __future__ import annotations

EC2_TYPES: dict[str, str] = {
    "xsmall": "t3.micro",
    "small": "t3.small",
    "medium": "m6i.large",
    "large": "m6i.xlarge",
    "xlarge": "m6i.2xlarge",
}

RDS_CLASSES: dict[str, str] = {
    "xsmall": "db.t4g.micro",
    "small": "db.t4g.small",
    "medium": "db.m6g.large",
    "large": "db.m6g.xlarge",
    "xlarge": "db.r6g.2xlarge",
}
