import json
from typing import Any

from django.db import DatabaseError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import translation


class UserLanguageMiddleware:
    """A signed-in user sees the language saved in their profile, on every device."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = user.language
        return self.get_response(request)


class QueryCountMiddleware:
    """BENCH=1 only: report the number of SQL queries of a response in `X-Query-Count`.

    A request with `X-Bench-Explain: 1` gets, instead of the page, the plans of its queries as JSON:
    `{"status": <the page's status>, "queries": [{"sql": ..., "plan": <EXPLAIN (FORMAT JSON)>, "text": <EXPLAIN>}]}`
    (bench/run.py checks the main query of each page). Everything is local to the call: gunicorn's
    threads serve several requests at once.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.db import connection

        explain = request.headers.get("X-Bench-Explain") == "1"
        count = 0
        statements: list[tuple[str, Any]] = []

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            if explain and not many:
                statements.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        if explain:
            response = JsonResponse({"status": response.status_code, "queries": _plans(connection, statements)})
        response["X-Query-Count"] = str(count)
        return response


def _plans(connection: BaseDatabaseWrapper, statements: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """EXPLAIN of each SELECT / WITH statement (JSON to check, text to print), run again with its params."""
    plans = []
    for sql, params in statements:
        if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
            continue
        try:
            # A savepoint (or a transaction of its own): a failed EXPLAIN leaves the connection usable.
            with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
                (plan,) = cursor.fetchone()
                cursor.execute(f"EXPLAIN {sql}", params)
                text = "\n".join(line for (line,) in cursor.fetchall())
        except DatabaseError:
            continue
        plans.append({"sql": sql, "plan": json.loads(plan) if isinstance(plan, str) else plan, "text": text})
    return plans
