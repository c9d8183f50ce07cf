"""The bench's plan check: which query is a page's main one, and which big tables it seq-scans."""

import pytest
from django.db import connection
from django.test import override_settings

from bench import plans
from bench.run import Result, TableSizes, check_plans, plan_failures


def query(node: dict, sql: str = "SELECT 1") -> dict:
    return {"sql": sql, "plan": [{"Plan": node}], "text": ""}


def scan(relation: str, kind: str = "Seq Scan", cost: float = 1.0, **extra) -> dict:
    return {"Node Type": kind, "Relation Name": relation, "Total Cost": cost, **extra}


LIST = query(
    {
        "Node Type": "Limit",
        "Total Cost": 40.5,
        "Plans": [
            {
                "Node Type": "Nested Loop",
                "Total Cost": 40.0,
                "Plans": [
                    scan("deals_deal", "Index Scan", 20.0, **{"Index Name": "deals_deal_stage_idx"}),
                    scan("contacts_company", "Index Scan", 0.4, **{"Index Name": "contacts_company_pkey"}),
                    {
                        "Node Type": "Aggregate",
                        "Parent Relationship": "SubPlan",
                        "Total Cost": 3.0,
                        "Plans": [scan("deals_stage", cost=2.0), scan("deals_stage", cost=2.0)],
                    },
                ],
            }
        ],
    }
)
SESSION = query(scan("django_session", "Index Scan", 8.3, **{"Index Name": "django_session_pkey"}))


def test_the_main_query_is_the_costliest_one():
    assert plans.main_query([SESSION, LIST]) is LIST
    assert plans.main_query([LIST, SESSION]) is LIST
    assert plans.main_query([]) is None
    twin = query(scan("django_session", cost=8.3))
    assert plans.main_query([SESSION, twin]) is SESSION  # the first of equals


def test_seq_scans_are_found_at_any_depth_once_each():
    assert plans.seq_scanned_relations(LIST) == ["deals_stage"]
    assert plans.seq_scanned_relations(SESSION) == []
    assert [node["Node Type"] for node in plans.nodes(plans.root(LIST))] == [
        "Limit",
        "Nested Loop",
        "Index Scan",
        "Index Scan",
        "Aggregate",
        "Seq Scan",
        "Seq Scan",
    ]


@pytest.fixture
def sizes(db) -> TableSizes:
    """Two tables: one just over the limit (analysed), one small and never analysed (counted)."""
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_big AS SELECT generate_series(1, {plans.BIG_TABLE_ROWS + 1}) AS id")
        cursor.execute("ANALYZE bench_big")
        cursor.execute(f"CREATE TABLE bench_edge AS SELECT generate_series(1, {plans.BIG_TABLE_ROWS}) AS id")
    return TableSizes()


def test_tables_over_one_hundred_thousand_rows_are_big(sizes):
    assert sizes.rows("bench_big") == plans.BIG_TABLE_ROWS + 1
    assert sizes.rows("bench_edge") == plans.BIG_TABLE_ROWS  # never analysed: counted
    assert sizes.big(["bench_edge", "bench_big"]) == ["bench_big"]


def test_a_page_fails_only_for_its_own_big_seq_scans(sizes):
    main = query(scan("bench_big", cost=1500.0))
    assert check_plans([SESSION, main], sizes) == ["bench_big"]
    assert check_plans([query(scan("bench_edge", cost=1400.0))], sizes) == []

    def result(name: str, seq_scans: list[str]) -> Result:
        return Result(name, f"/{name}/", 1.0, 2.0, 3.0, 4, 1.5, seq_scans)

    failures = plan_failures([result("person-list", ["bench_big"]), result("home", [])], sizes)
    assert failures == [f"page person-list: main query seq-scans bench_big ({plans.BIG_TABLE_ROWS + 1:,} rows)"]


@override_settings(MIDDLEWARE=["crm.middleware.QueryCountMiddleware"], ROOT_URLCONF="tests.bench.explain_urls")
def test_the_middleware_answers_the_explain_header_with_plans(db, client):
    plain = client.get("/companies/")
    assert plain["X-Query-Count"] == "1"
    assert plain.content == b"0 companies"

    answer = client.get("/companies/", headers={"X-Bench-Explain": "1"})
    body = answer.json()
    assert body["status"] == 200
    (only,) = body["queries"]
    assert only["sql"].startswith("SELECT")
    assert plans.root(only)["Node Type"]
    assert "contacts_company" in only["text"]
