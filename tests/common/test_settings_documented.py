"""Every setting of `common.settings.Settings` is in the README's configuration table with its default."""

from __future__ import annotations

import re

from snowmcp.common.settings import Settings
from tests.processes import REPO


def test_every_setting_is_in_the_readme_table_with_its_default() -> None:
    rows = {m.group(1): m.group(2) for m in re.finditer(r"^\| `(SNOWMCP_[A-Z0-9_]+)` \| ([^|]*) \|",
                                                        (REPO / "README.md").read_text(), re.MULTILINE)}
    missing = [name for name in Settings.model_fields if f"SNOWMCP_{name.upper()}" not in rows]
    assert missing == []
    for name, field in Settings.model_fields.items():  # plain defaults are written as they are
        if isinstance(field.default, (int, float, str)) and not isinstance(field.default, bool) and field.default != "":
            shown = rows[f"SNOWMCP_{name.upper()}"].strip().strip("`")
            assert shown in {str(field.default), f"{field.default:g}" if isinstance(field.default, float) else ""}, (
                name, shown, field.default)
