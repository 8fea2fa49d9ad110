"""Bad input is a 4xx with a message that names the problem, never a 500."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient


@pytest.mark.parametrize(("path", "status", "words"), [
    ("/api/overview?as_of=2024-13-01", 400, "as_of must be a date"),
    ("/api/overview?as_of=yesterday", 400, "YYYY-MM-DD"),
    ("/api/overview?grain=week", 400, "grain must be one of month, quarter, year"),
    ("/api/overview?currency=XYZ", 400, "currency"),
    ("/api/overview?discounts=most", 400, "discounts must be one of"),
    ("/api/overview?past_due_grace_days=-3", 400, "past_due_grace_days"),
    ("/api/overview?size_bands=500,100", 400, "size_bands"),
    ("/api/overview?colour=red", 400, "unknown query parameter 'colour'"),
    ("/api/overview?format=csv", 400, "format must be one of json"),
    ("/api/overview?grain=month&grain=year", 400, "given more than once"),
    ("/api/bridge?from=2024-05&to=2024-01", 400, "'from' must not be after 'to'"),
    ("/api/bridge?from=May", 400, "not a period"),
    ("/api/bridge?from=2024-13", 400, "from"),
    ("/api/segments?by=colour", 400, "unknown segment dimension 'colour'"),
    ("/api/bridge?segment=pro", 400, "segment needs by="),
    ("/api/retention?window=7", 400, "window must be one of 1, ttm"),
    ("/api/customers?sort=mrr;drop table customers", 400, "sort must be one of"),
    ("/api/customers?limit=0", 400, "limit must be between 1 and 1000"),
    ("/api/customers?limit=ten", 400, "limit must be a whole number"),
    ("/api/customers/nobody", 404, "no customer 'nobody'"),
    ("/api/drill?metric=churn", 400, "period is required"),
    ("/api/drill?metric=profit&period=2024-03", 400, "metric must be one of"),
    ("/api/drill?metric=churn&period=2024-Q1", 400, "period"),
    ("/api/drill?metric=window4&period=2024-04", 400, "does not fit the month grain"),
    ("/api/nothing-here", 404, "no such page"),
    ("/api/overview?currency=USD&fx_date=fixed", 400, "needs a rate for EUR in fixed_rates"),
])  # fmt: skip
def test_bad_requests_are_named(client: TestClient, path: str, status: int, words: str) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert words in response.json()["error"]


def test_pages_answer_bad_input_with_an_html_message(client: TestClient) -> None:
    response = client.get("/segments?by=colour&as_of=2024-04-30")
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "unknown segment dimension" in response.text
    assert client.get("/customers/nobody?as_of=2024-04-30").status_code == 404


def test_wrong_method_is_refused(client: TestClient) -> None:
    assert client.delete("/api/overview").status_code in (403, 405)
    assert client.get("/api/recompute").status_code == 405
