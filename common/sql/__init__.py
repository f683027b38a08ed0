"""SQL that more than one server builds: column resolution, metrics and filters,
time buckets, the table profile and anomaly scoring.

Everything here returns sqlglot expressions; callers render them in the
warehouse's dialect. User-supplied names become quoted identifiers after being
checked against the table's real columns, and user values become literals, so
no user text is ever spliced into SQL.
"""
