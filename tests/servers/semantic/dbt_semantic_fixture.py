"""The tables of tests/fixtures/dbt_semantic, built without dbt: its seeds and its models' own SQL.

`dbt build` on that project writes a 2 MB DuckDB file, too big to commit; what the tests query is
built here instead from the same inputs: each seed CSV loaded as text (the staging models cast
every column, so no type inference is involved), then every model's SQL with `{{ ref('x') }}`
read as `main.x`, staging before marts, all as tables. The file is named after the database dbt
used (`node_relation.database` in the manifest), which is the catalog name DuckDB gives a file:
MetricFlow's SQL names tables as `"semantic_shop"."main"."fct_orders"`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[2] / "fixtures" / "dbt_semantic"
ARTIFACTS = PROJECT / "artifacts"
MANIFEST = ARTIFACTS / "semantic_manifest.json"
# Models in dependency order (the marts read the staging models).
MODELS = ("staging/stg_customers", "staging/stg_orders", "staging/stg_order_lines",
          "marts/dim_customers", "marts/fct_orders", "marts/fct_order_lines", "marts/metricflow_time_spine")
_REF = re.compile(r"\{\{\s*ref\(\s*'([A-Za-z0-9_]+)'\s*\)\s*\}\}")


def manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text())


def database_name() -> str:
    """The database every node relation of the manifest names (one DuckDB file)."""
    names = {m["node_relation"]["database"] for m in manifest()["semantic_models"]}
    assert len(names) == 1, names
    return names.pop()


def model_sql(model: str) -> str:
    return _REF.sub(lambda m: f"main.{m.group(1)}", (PROJECT / "models" / f"{model}.sql").read_text())


def load(con: Any) -> None:
    """Create the seeds and models in `con` (a DuckDB connection), schema main."""
    for seed in sorted((PROJECT / "seeds").glob("*.csv")):
        path = str(seed).replace("'", "''")
        con.execute(f"CREATE TABLE main.{seed.stem} AS SELECT * FROM read_csv('{path}', header = true, all_varchar = true)")
    for model in MODELS:
        con.execute(f"CREATE TABLE main.{model.rsplit('/', 1)[1]} AS {model_sql(model)}")


def build(folder: Path) -> Path:
    """The warehouse file for the server: `folder/<database>.duckdb`."""
    import duckdb

    path = folder / f"{database_name()}.duckdb"
    with duckdb.connect(str(path)) as con:
        load(con)
        con.execute("CHECKPOINT")
    return path
