"""tests/sql/legacy_schema.postgresql.sql is legacy-schema.md's DDL, verbatim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "shared" / "legacy-schema.md"
DDL = Path(__file__).parent / "sql" / "legacy_schema.postgresql.sql"


@pytest.mark.skipif(not DOC.exists(), reason="../shared/legacy-schema.md is not beside the repo")
def test_ddl_file_is_the_documents_ddl():
    blocks = re.findall(r"```sql\n(.*?)```", DOC.read_text(), re.S)
    expected = "\n".join(block.strip() + "\n" for block in blocks)
    assert expected in DDL.read_text()
