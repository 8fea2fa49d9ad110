"""Recognised header sets, mapping files and flags, and the messages when columns are missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nrr.sources.mapping import (
    MappingProblem,
    MappingSpec,
    header_key,
    load_mapping,
    plan_columns,
)

STRIPE_SUBSCRIPTIONS = [
    "id", "Customer ID", "Customer Description", "Customer Email", "Plan", "Product", "Quantity",
    "Currency", "Interval", "Amount", "Status", "Created (UTC)", "Start (UTC)",
    "Current Period Start (UTC)", "Current Period End (UTC)", "Trial Start (UTC)",
    "Trial End (UTC)", "Canceled At (UTC)", "Cancel At Period End", "Cancel At (UTC)",
    "Ended At (UTC)", "Coupon",
    "Tax Percent", "country (metadata)",
]
STRIPE_INVOICE_LINES = [
    "Invoice ID", "Line Item ID", "Customer ID", "Customer Name", "Invoice Date (UTC)",
    "Description", "Amount", "Currency", "Period Start (UTC)", "Period End (UTC)", "Proration",
    "Quantity", "Plan", "Tax", "Type",
]
CHARGEBEE_SUBSCRIPTIONS = [
    "subscriptions.id", "subscriptions.customer_id", "customers.company", "subscriptions.plan_id",
    "subscriptions.plan_quantity", "subscriptions.plan_unit_price", "subscriptions.currency_code",
    "subscriptions.billing_period", "subscriptions.billing_period_unit", "subscriptions.status",
    "subscriptions.started_at", "subscriptions.cancelled_at", "customers.billing_country",
]


def test_header_folding() -> None:
    assert header_key("Start Date (UTC)") == "start_date"
    assert header_key("subscriptions.customer_id") == "customer_id"
    assert header_key("  Währung ") == "waehrung"
    assert header_key("country (metadata)") == "country"


def test_stripe_subscription_export() -> None:
    plan = plan_columns(STRIPE_SUBSCRIPTIONS, MappingSpec(), "subs.csv")
    assert plan.shape == "subscriptions"
    assert plan.describe() == {
        "amount": "Amount", "cancel_requested": "Canceled At (UTC)", "currency": "Currency",
        "customer": "Customer ID", "customer_name": "Customer Description",
        "end": "Ended At (UTC)", "interval": "Interval", "plan": "Plan", "quantity": "Quantity",
        "scheduled_end": "Cancel At (UTC)", "start": "Start (UTC)", "status": "Status",
        "trial_end": "Trial End (UTC)",
    }
    assert [key for _, key in plan.attributes] == ["country"]


def test_stripe_invoice_line_export() -> None:
    plan = plan_columns(STRIPE_INVOICE_LINES, MappingSpec(), "lines.csv")
    assert plan.shape == "invoices"
    assert plan.describe() == {
        "amount": "Amount", "currency": "Currency", "customer": "Customer ID",
        "customer_name": "Customer Name", "date": "Invoice Date (UTC)", "plan": "Plan",
        "proration": "Proration", "quantity": "Quantity", "recurring": "Type",
        "service_end": "Period End (UTC)", "service_start": "Period Start (UTC)",
    }
    assert plan.attributes == ()


def test_chargebee_subscription_export() -> None:
    plan = plan_columns(CHARGEBEE_SUBSCRIPTIONS, MappingSpec(), "cb.csv")
    described = plan.describe()
    assert described["interval"] == "subscriptions.billing_period_unit"
    assert described["interval_count"] == "subscriptions.billing_period"
    assert described["end"] == "subscriptions.cancelled_at"
    assert described["amount"] == "subscriptions.plan_unit_price"
    assert described["customer_name"] == "customers.company"
    assert [key for _, key in plan.attributes] == ["billing_country"]


def test_billing_period_alone_is_the_interval() -> None:
    plan = plan_columns(["customer", "start", "amount", "currency", "billing_period"],
                        MappingSpec(), "x.csv")
    assert plan.describe()["interval"] == "billing_period"
    assert "interval_count" not in plan.index


def test_generic_and_german_names() -> None:
    plan = plan_columns(["Kundennummer", "Beginn", "Ende", "Betrag", "Währung", "Intervall",
                         "Land", "Branche"], MappingSpec(), "de.csv")
    assert plan.describe() == {"amount": "Betrag", "currency": "Währung",
                               "customer": "Kundennummer", "end": "Ende", "interval": "Intervall",
                               "start": "Beginn"}
    assert [key for _, key in plan.attributes] == ["land", "branche"]


def test_flags_name_columns_and_win_over_recognition() -> None:
    spec = MappingSpec(columns={"customer": "Account Ref", "amount": "Net"})
    plan = plan_columns(["customer_id", "Account Ref", "start", "Net", "amount", "currency"],
                        spec, "x.csv")
    assert plan.header("customer") == "Account Ref"
    assert plan.header("amount") == "Net"
    # the recognised-but-unused columns are not attributes
    assert plan.attributes == ()


def test_mapping_file_toml(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text('shape = "subscriptions"\ncurrency = "CHF"\ndate_order = "DMY"\n'
                    'ignore = ["Notes"]\n[columns]\ncustomer = "Kunde Nr"\nstart = "Ab"\n'
                    'amount = "Preis CHF"\n', encoding="utf-8")
    spec = load_mapping(path)
    plan = plan_columns(["Kunde Nr", "Ab", "Preis CHF", "Notes", "Segment"], spec, "x.csv")
    assert (spec.currency, spec.date_order) == ("CHF", "DMY")
    assert plan.describe() == {"amount": "Preis CHF", "customer": "Kunde Nr", "start": "Ab"}
    assert [key for _, key in plan.attributes] == ["segment"]


def test_mapping_file_json_and_flags_override(tmp_path: Path) -> None:
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"columns": {"customer": "A", "start": "B"},
                                "currency": "EUR"}), encoding="utf-8")
    merged = load_mapping(path).overridden_by(MappingSpec(columns={"customer": "C"},
                                                          currency="USD"))
    assert merged.columns == {"customer": "C", "start": "B"}
    assert merged.currency == "USD"


@pytest.mark.parametrize(("text", "message"), [
    ('[columns]\ncustomr = "x"\n', r"unknown column role\(s\) customr"),
    ('colums = 1\n', r"unknown key\(s\) colums"),
    ('date_order = "YMD"\n', "date_order must be MDY or DMY"),
    ('[columns\n', "cannot read the mapping file"),
])
def test_bad_mapping_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "map.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingProblem, match=message):
        load_mapping(path)


def test_missing_column_lists_what_was_found_and_how_to_map() -> None:
    with pytest.raises(MappingProblem) as info:
        plan_columns(["client ref", "start", "price", "currency"],
                     MappingSpec(shape="subscriptions"), "billing.csv")
    message = str(info.value)
    assert message.startswith("billing.csv: no column for customer (looked for customer_id")
    assert "Columns found: 'client ref', 'start', 'price', 'currency'" in message
    assert '--customer-col "Your header"' in message


def test_missing_currency_mentions_the_default() -> None:
    with pytest.raises(MappingProblem, match="--currency EUR"):
        plan_columns(["customer", "start", "amount"], MappingSpec(), "x.csv")
    plan = plan_columns(["customer", "start", "amount"], MappingSpec(currency="EUR"), "x.csv")
    assert "currency" not in plan.index


def test_mapped_column_that_is_not_there() -> None:
    with pytest.raises(MappingProblem, match="the column 'Kunde' mapped to customer is not in"):
        plan_columns(["customer", "start"], MappingSpec(columns={"customer": "Kunde"}), "x.csv")


def test_shape_cannot_be_told() -> None:
    with pytest.raises(MappingProblem, match="Pass --shape subscriptions or --shape invoices"):
        plan_columns(["customer", "amount", "currency"], MappingSpec(), "x.csv")
