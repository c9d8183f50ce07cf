"""Reading the query plans of a bench page (pure: no Django, no database).

A page's plans come from `crm.middleware.QueryCountMiddleware` (request header `X-Bench-Explain: 1`):
a list of `{"sql": ..., "plan": <EXPLAIN (FORMAT JSON)>, "text": <EXPLAIN>}`. A JSON plan is
`[{"Plan": <node>}]`; a node has "Node Type", "Total Cost", maybe "Relation Name" / "Index Name", and its
children in "Plans" (InitPlans and SubPlans included). The main query of a page is its costliest one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

# A sequential scan of a table this big in a page's main query fails the bench (issue #10).
BIG_TABLE_ROWS = 100_000

Query = dict[str, Any]
Node = dict[str, Any]


def root(query: Query) -> Node:
    """The top node of a query's plan."""
    return query["plan"][0]["Plan"]


def main_query(queries: Sequence[Query]) -> Query | None:
    """The query whose top node has the highest "Total Cost" (the first of equals); None for no queries."""
    return max(queries, key=lambda query: root(query)["Total Cost"], default=None)


def nodes(node: Node) -> Iterator[Node]:
    """Every node of a plan, depth first."""
    yield node
    for child in node.get("Plans", ()):
        yield from nodes(child)


def seq_scanned_relations(query: Query) -> list[str]:
    """The tables a query reads with a sequential scan anywhere in its plan, once each, in plan order."""
    found = [node["Relation Name"] for node in nodes(root(query)) if node["Node Type"] == "Seq Scan"]
    return list(dict.fromkeys(found))
