"""The benchmark harness: its percentile helper, and one small real run end to end."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.pages import FLOOR, PAGES
from bench.run import percentile

BASE_DIR = Path(__file__).resolve().parent.parent.parent
KEYS = {"name", "url", "p50_ms", "p95_ms", "p99_ms", "queries", "floor_ratio", "main_query_seq_scans"}


def test_percentile_is_nearest_rank():
    values = list(range(100, 0, -1))  # 1..100, unsorted
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    # Few values: the rank rounds up to a measured value, never an interpolation.
    assert percentile([3.0, 1.0, 2.0, 4.0], 50) == 2.0
    assert percentile([3.0, 1.0, 2.0, 4.0], 95) == 4.0
    assert percentile([7.5], 99) == 7.5
    with pytest.raises(ValueError, match="no values"):
        percentile([], 50)


def test_bench_run_times_every_page(tmp_path):
    """`python -m bench.run` on its own embedded servers: size S, 3 requests per page."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY"}
    }
    env["CRM_DATA_DIR"] = str(tmp_path)
    output = tmp_path / "results.json"
    args = ["--size", "S", "--requests", "3", "--warmup", "1", "--output", str(output)]
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run", *args], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=300
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr

    results = json.loads(output.read_text())
    pages = [FLOOR, *PAGES]
    assert [r["name"] for r in results] == [p.name for p in pages]
    for page, result in zip(pages, results, strict=True):
        assert set(result) == KEYS
        assert result["url"].startswith("/")
        assert 0 < result["p50_ms"] <= result["p95_ms"] <= result["p99_ms"]
        assert result["floor_ratio"] > 0
        # An anonymous page may run no SQL at all (the login form); a signed-in one loads the session.
        assert result["queries"] >= (0 if page.anonymous else 1), page.name
        # At size S no table is over plans.BIG_TABLE_ROWS rows: nothing fails the plan check.
        assert result["main_query_seq_scans"] == [], page.name
    assert results[0]["url"] == "/bench/floor/"
    assert results[0]["floor_ratio"] == 1.0
    assert "/notifications/?before=" in next(r["url"] for r in results if r["name"] == "notifications-middle")
    assert "×floor" in completed.stdout
    # Each signed-in page prints the plan of its main query under its timing.
    assert completed.stdout.count("    main query (cost ") >= len(PAGES) - 1
    assert "Index Scan" in completed.stdout
