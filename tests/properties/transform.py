"""Changes to a company's input that must not change any metric (or change it predictably)."""

from __future__ import annotations

from dataclasses import replace

from reference.companies import Company, Dice, LineRow


def permuted(dice: Dice, rows: list[LineRow]) -> list[LineRow]:
    rows = list(rows)
    for i in range(len(rows) - 1, 0, -1):
        j = dice.integer(0, i)
        rows[i], rows[j] = rows[j], rows[i]
    return rows


def shuffled(company: Company, dice: Dice) -> Company:
    return replace(company, lines=permuted(dice, company.lines),
                   attributes=permuted(dice, company.attributes))  # fmt: skip


def split_line(company: Company, dice: Dice) -> Company:
    """One line (not metered: its average is rounded per line) becomes two with the same dates."""
    candidates = [i for i, row in enumerate(company.lines)
                  if row["kind"] != "metered" and abs(row["mrr_minor"]) >= 2]  # fmt: skip
    if not candidates:
        return company
    index = dice.choice(candidates)
    row = company.lines[index]
    sign = 1 if row["mrr_minor"] > 0 else -1
    part = sign * dice.integer(1, abs(row["mrr_minor"]) - 1)
    first = {**row, "mrr_minor": part}
    second = {**row, "mrr_minor": row["mrr_minor"] - part, "line_id": row["line_id"] + "b",
              "source_ref": row["line_id"] + "b"}  # fmt: skip
    lines = company.lines[:index] + [first, second] + company.lines[index + 1 :]
    return replace(company, lines=lines)


def renaming(company: Company, dice: Dice) -> dict[str, str]:
    """Old customer id -> a new, differently ordered id."""
    old = sorted({row["customer_id"] for row in company.lines})
    new = permuted(dice, [{"id": f"acct-{dice.integer(0, 9)}{k:03d}"} for k in range(len(old))])
    return {o: n["id"] for o, n in zip(old, new, strict=True)}


def renamed(company: Company, names: dict[str, str]) -> Company:
    def rename(row: LineRow) -> LineRow:
        return {**row, "customer_id": names.get(row["customer_id"], row["customer_id"] + "-x")}

    return replace(company, lines=[rename(r) for r in company.lines],
                   attributes=[rename(r) for r in company.attributes])  # fmt: skip


def scaled(company: Company, k: int) -> Company:
    return replace(company, lines=[{**r, "mrr_minor": r["mrr_minor"] * k} for r in company.lines])
