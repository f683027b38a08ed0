"""SLAs for the demo warehouse's ANALYTICS.OPS.ETL_RUNS, used when SNOWMCP_WAREHOUSE=demo and no
SNOWMCP_ETL_SLA_FILE is set. Kept as Python text so it ships with the package. Times are UTC."""

DEMO_SLAS = """\
[pipelines."load_*"]
owner = "ingest-team@example.com"

[pipelines.load_orders]
schedule = "hourly at :05"
max_lag = "2h"
max_duration = "15m"

[pipelines.load_customers]
schedule = "daily 02:00"
expected_by = "03:00"
max_lag = "26h"

[pipelines.load_products]
schedule = "daily 02:30"
expected_by = "03:00"
max_lag = "26h"

[pipelines.build_order_items]
schedule = "daily 03:00"
upstream = ["load_orders", "load_products"]
expected_by = "04:00"
max_duration = "30m"
owner = "sales-data@example.com"

[pipelines.refresh_revenue_mart]
schedule = "daily 04:00"
upstream = ["load_orders"]
expected_by = "05:00"
max_duration = "30m"
owner = "finance-analytics@example.com"

[pipelines.export_finance]
schedule = "daily 06:00"
upstream = ["refresh_revenue_mart"]
expected_by = "07:00"

[pipelines.sync_crm]
schedule = "every 6h at :15"
max_lag = "7h"

[pipelines.snapshot_inventory]
schedule = "daily 01:00"
expected_by = "02:00"
"""
