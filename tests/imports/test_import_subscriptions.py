"""Subscription-period files end to end: exact MRR, lines, customers, attributes and lineage."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from nrr.imports import import_file
from nrr.sources.mapping import MappingSpec
from nrr.store import Workspace

from .conftest import lines, total_mrr, write_csv

HEADER = ["customer_id", "start_date", "end_date", "amount", "interval", "currency", "plan",
          "quantity", "country", "employees"]


def test_hundred_monthly_and_fifty_yearly_make_12500(ws: Workspace, tmp_path: Path) -> None:
    rows = [[f"m{i}", "2024-01-01", None, "100", "month", "EUR", "Basic", 1, "DE", 10]
            for i in range(100)]
    rows += [[f"y{i}", "2024-01-01", None, "600", "year", "EUR", "Basic", 1, "AT", 20]
             for i in range(50)]
    report = import_file(ws, write_csv(tmp_path, "subs.csv", HEADER, rows))
    assert total_mrr(ws) == 1_250_000  # 12,500.00 EUR
    assert (report.rows, report.lines, report.customers, report.shape) == (
        150, 150, 150, "subscriptions")
    assert report.attributes == ["country", "employees"]
    assert report.warnings == []


def test_each_example_from_the_issue(ws: Workspace, tmp_path: Path) -> None:
    header = ["customer", "start", "amount", "interval", "interval_count", "currency",
              "discount_percent", "discount_duration"]
    rows = [["a", "2024-01-01", "1200", "year", None, "EUR", None, None],
            ["b", "2024-01-01", "90", "month", "3", "EUR", None, None],
            ["c", "2024-01-01", "120", "year", None, "EUR", "10", "forever"]]
    import_file(ws, write_csv(tmp_path, "ex.csv", header, rows))
    by_customer = dict(ws.con.execute(
        "SELECT customer_id, sum(mrr_minor) FROM revenue_lines GROUP BY 1").fetchall())
    assert by_customer == {"a": 10_000, "b": 3_000, "c": 900}


def test_lines_point_at_their_rows(ws: Workspace, tmp_path: Path) -> None:
    header = HEADER + ["discount_percent", "discount_months"]
    rows = [["c1", "2024-01-01", "2024-03-01", "100", "month", "EUR", "Basic", 2, "DE", 5,
             None, None],
            ["c1", "2024-03-01", None, "100", "month", "EUR", "Pro", 3, "DE", 7, "50", "2"]]
    import_file(ws, write_csv(tmp_path, "b.csv", header, rows))
    assert lines(ws) == [
        ("b.csv:2", "c1", date(2024, 1, 1), date(2024, 3, 1), 20_000, "EUR", "recurring", None),
        ("b.csv:3", "c1", date(2024, 3, 1), None, 30_000, "EUR", "recurring", None),
        ("b.csv:3#discount", "c1", date(2024, 3, 1), date(2024, 5, 1), -15_000, "EUR",
         "discount", "repeating"),
    ]
    refs = ws.con.execute("SELECT DISTINCT source, source_ref FROM revenue_lines "
                          "ORDER BY 2").fetchall()
    assert refs == [("file:b.csv", "b.csv:2"), ("file:b.csv", "b.csv:3")]
    raw = ws.source_rows(["b.csv:3"])
    assert raw[0][:2] == ("file:b.csv", "b.csv:3")
    assert json.loads(raw[0][2])["plan"] == "Pro"
    # the latest row's value wins for an attribute
    attributes = ws.con.execute("SELECT customer_id, key, value, source FROM customer_attributes "
                                "ORDER BY key").fetchall()
    assert attributes == [("c1", "country", "DE", "file:b.csv"),
                          ("c1", "employees", "7", "file:b.csv")]


def test_statuses_reasons_and_requests(ws: Workspace, tmp_path: Path) -> None:
    header = ["customer", "start", "end", "amount", "currency", "status", "churn_reason",
              "cancel_requested", "past_due_since", "customer_name"]
    rows = [["c1", "2024-01-01", "2024-06-01", "10", "EUR", "canceled", "payment_failed",
             None, None, "Alpha GmbH"],
            ["c2", "2024-01-01", "2024-06-01", "10", "EUR", "canceled", "too expensive",
             "2024-05-10", None, "Beta AG"],
            ["c3", "2024-01-01", None, "10", "EUR", "past_due", None, None, "2024-05-20", None],
            ["c4", "2024-01-01", None, "10", "EUR", "paused", None, None, None, None]]
    report = import_file(ws, write_csv(tmp_path, "s.csv", header, rows))
    got = ws.con.execute("SELECT customer_id, churn_reason, cancel_requested_date, "
                         "past_due_since FROM revenue_lines ORDER BY 1").fetchall()
    assert got == [("c1", "involuntary", None, None),
                   ("c2", "voluntary", date(2024, 5, 10), None),
                   ("c3", None, None, date(2024, 5, 20))]
    assert report.skipped_rows == {"status paused without an end date": 1}
    assert [str(w) for w in report.warnings] == [
        "s.csv: there is no interval column, so every amount is read as a monthly price; map the "
        "interval column (--interval-col) or set interval in a mapping file if that is wrong",
        "s.csv: 1 row(s) bring no MRR: status paused without an end date"]
    names = ws.con.execute("SELECT customer_id, name FROM customers ORDER BY 1").fetchall()
    assert names == [("c1", "Alpha GmbH"), ("c2", "Beta AG"), ("c3", None), ("c4", None)]


def test_mapping_options_default_currency_and_day_first(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "de.csv", ["Kunde", "Beginn", "Monatlich"],
                     [["k1", "03/02/2024", "1.234,50"]], delimiter=";")
    spec = MappingSpec(columns={"mrr": "Monatlich"}, currency="CHF", date_order="DMY")
    import_file(ws, path, mapping=spec)
    got = ws.con.execute("SELECT customer_id, start_date, mrr_minor, currency "
                         "FROM revenue_lines").fetchall()
    assert got == [("k1", date(2024, 2, 3), 123_450, "CHF")]


def test_amounts_in_minor_units(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "cents.csv", ["customer", "start", "amount", "interval",
                                             "currency"],
                     [["c", "2024-01-01", "120000", "year", "EUR"]])
    import_file(ws, path, mapping=MappingSpec(amounts_in="minor"))
    assert total_mrr(ws) == 10_000


def test_source_override_names_the_refs(ws: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path, "export.csv", ["customer", "start", "amount", "currency"],
                     [["c", "2024-01-01", "5", "EUR"]])
    report = import_file(ws, path, source="billing")
    assert report.source == "file:billing"
    assert ws.con.execute("SELECT line_id, source, source_ref FROM revenue_lines").fetchall() == [
        ("billing:2", "file:billing", "billing:2")]


def test_a_stripe_subscription_export(ws: Workspace, tmp_path: Path) -> None:
    header = ["id", "Customer ID", "Customer Description", "Plan", "Quantity", "Currency",
              "Interval", "Amount", "Status", "Start (UTC)", "Trial End (UTC)",
              "Canceled At (UTC)", "Cancel At (UTC)", "Ended At (UTC)", "country (metadata)"]
    rows = [
        ["sub_1", "cus_A", "Alpha", "pro", "3", "eur", "month", "10.00", "canceled",
         "2024-01-10 09:00", None, "2024-04-02 17:30", None, "2024-04-10 09:00", "DE"],
        ["sub_2", "cus_B", "Beta", "pro", "1", "jpy", "year", "120000", "active",
         "2024-01-01 00:00", "2024-01-15 00:00", "2024-06-01 08:00", "2025-01-15 00:00", None,
         "JP"],
        ["sub_3", "cus_C", "Gamma", "pro", "1", "bhd", "month", "1.234", "trialing",
         "2024-02-01 00:00", "2024-03-01 00:00", None, None, None, "BH"],
    ]
    report = import_file(ws, write_csv(tmp_path, "subscriptions.csv", header, rows))
    got = ws.con.execute("SELECT customer_id, start_date, end_date, mrr_minor, currency, "
                         "cancel_requested_date FROM revenue_lines ORDER BY 1").fetchall()
    assert got == [("cus_A", date(2024, 1, 10), date(2024, 4, 10), 3_000, "EUR",
                    date(2024, 4, 2)),
                   ("cus_B", date(2024, 1, 15), date(2025, 1, 15), 10_000, "JPY",
                    date(2024, 6, 1))]  # cancels at the end of its paid year
    # a trialing subscription without an end is not MRR yet
    assert report.skipped_rows == {"status trialing without an end date": 1}
    assert ws.con.execute("SELECT customer_id, value FROM customer_attributes "
                          "ORDER BY 1").fetchall() == [("cus_A", "DE"), ("cus_B", "JP"),
                                                       ("cus_C", "BH")]


def test_a_chargebee_subscription_export(ws: Workspace, tmp_path: Path) -> None:
    header = ["subscriptions.id", "subscriptions.customer_id", "customers.company",
              "subscriptions.plan_id", "subscriptions.plan_quantity",
              "subscriptions.plan_unit_price", "subscriptions.currency_code",
              "subscriptions.billing_period", "subscriptions.billing_period_unit",
              "subscriptions.status", "subscriptions.started_at", "subscriptions.cancelled_at"]
    rows = [["s1", "c1", "Acme AG", "team", "4", "150.00", "CHF", "6", "month", "active",
             "2024-03-01", None],
            ["s2", "c2", "Beta GmbH", "team", "1", "1200.00", "EUR", "1", "year", "cancelled",
             "2023-03-01", "2024-03-01"]]
    import_file(ws, write_csv(tmp_path, "cb.csv", header, rows))
    got = ws.con.execute("SELECT customer_id, end_date, mrr_minor, currency, plan, quantity "
                         "FROM revenue_lines ORDER BY 1").fetchall()
    assert got == [("c1", None, 10_000, "CHF", "team", 4),  # 4 x 150 every 6 months
                   ("c2", date(2024, 3, 1), 10_000, "EUR", "team", 1)]
    assert ws.con.execute("SELECT name FROM customers ORDER BY 1").fetchall() == [
        ("Acme AG",), ("Beta GmbH",)]
