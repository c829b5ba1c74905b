"""KEEP: the value of an update field that leaves the stored value as it is (None clears it)."""

from __future__ import annotations

import enum
from typing import Final


class Keep(enum.Enum):
    KEEP = "keep"


KEEP: Final = Keep.KEEP
