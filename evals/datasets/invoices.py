"""Generate the invoice-extraction dataset: invoice documents as text, with the fields they contain.

    python -m evals.datasets.invoices            # writes workflows/invoice_extraction/data/invoices.jsonl
    python -m evals.datasets.invoices --check    # exits 1 if the committed file differs

Seeded and deterministic. Documents vary in what makes extraction hard in practice: layout (labelled
fields, prose, OCR noise), the vendor country's date convention (ambiguous numeric dates like 03/04/2025),
distractor numbers (PO numbers, order dates, previous balances) and the number of line items. About 6% of
invoices are internally inconsistent (the printed total is wrong) and must not be approved; credit notes
must not be approved for payment either.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

from evals.datasets.common import main_for

SEED = 20240612
N_INVOICES = 500
OUT = Path(__file__).resolve().parents[2] / "workflows" / "invoice_extraction" / "data"

# country → (currency, tax rate, numeric date format, text date format)
COUNTRIES = {
    "US": ("USD", 0.0725, "%m/%d/%Y", "%B %-d, %Y"),
    "UK": ("GBP", 0.20, "%d/%m/%Y", "%-d %B %Y"),
    "DE": ("EUR", 0.19, "%d.%m.%Y", "%-d. %B %Y"),
    "FR": ("EUR", 0.20, "%d/%m/%Y", "%-d %B %Y"),
    "NL": ("EUR", 0.21, "%d-%m-%Y", "%-d %B %Y"),
}
VENDORS = (
    ("Acme Office Supply", "US"), ("Bluebird Logistics", "US"), ("Cobalt Cloud Services", "US"),
    ("Driftwood Print Co.", "US"), ("Evergreen Catering", "US"), ("Fulcrum Legal LLP", "UK"),
    ("Greyhound Couriers Ltd", "UK"), ("Harbour IT Ltd", "UK"), ("Ironbridge Consulting", "UK"),
    ("Jadestone Design Ltd", "UK"), ("Kranich Maschinenbau GmbH", "DE"), ("Lindenhof Software GmbH", "DE"),
    ("Mosel Reinigung GmbH", "DE"), ("Nordlicht Energie AG", "DE"), ("Oréal Fournitures SARL", "FR"),
    ("Papeterie Dupont", "FR"), ("Quai Transports SAS", "FR"), ("Rivoli Conseil", "FR"),
    ("Stroopwafel Events BV", "NL"), ("Tulp Techniek BV", "NL"), ("Utrecht Data Centers BV", "NL"),
)  # fmt: skip
ITEMS = (
    ("Printer paper A4, box", 24.50), ("Toner cartridge", 89.00), ("Consulting hours", 150.00),
    ("Cloud storage, 1 TB month", 21.00), ("Courier delivery", 35.00), ("Catering per person", 18.75),
    ("Software licence seat", 42.00), ("Cleaning service", 260.00), ("Office chairs", 199.00),
    ("Network switch", 349.00), ("Design work, hours", 95.00), ("Energy surcharge", 57.30),
)  # fmt: skip
TERMS = (14, 30, 30, 30, 45, 60)


def _money(value: float) -> float:
    return round(value + 1e-9, 2)


def _fmt_amount(value: float, country: str) -> str:
    text = f"{value:,.2f}"
    if country in ("DE", "FR", "NL"):
        text = text.replace(",", " ").replace(".", ",")
    return text


def _ocr(text: str, rng: random.Random) -> str:
    """Scanner noise on labels and words (never inside numbers or dates)."""
    swaps = {"o": "0", "l": "1", "e": "c", "S": "5", "I": "l"}
    out = []
    for word in text.split(" "):
        if word.isalpha() and len(word) > 3 and rng.random() < 0.12:
            k = rng.randrange(len(word))
            out.append(word[:k] + swaps.get(word[k], word[k]) + word[k + 1 :])
        else:
            out.append(word)
    return " ".join(out).replace(": ", rng.choice((": ", " : ", ":  ")))


def invoice(rng: random.Random, index: int) -> dict[str, object]:
    """One invoice document and its ground truth."""
    vendor, country = rng.choice(VENDORS)
    currency, rate, numeric, textual = COUNTRIES[country]
    issued = date(2024, 1, 1) + timedelta(days=rng.randrange(600))
    terms = rng.choice(TERMS)
    due = issued + timedelta(days=terms)
    style = rng.choices(("iso", "numeric", "text"), weights=(0.2, 0.5, 0.3))[0]
    fmt = {"iso": "%Y-%m-%d", "numeric": numeric, "text": textual}[style]
    number_style = rng.randrange(4)
    n = rng.randint(100, 99999)
    number = (f"INV-{issued.year}-{n:05d}", f"{n:06d}", f"F{issued.year}/{n % 10000:04d}", f"RE-{n:05d}")[
        number_style
    ]
    lines = []
    for _ in range(rng.choice((1, 1, 2, 2, 3, 4, 5))):
        desc, price = rng.choice(ITEMS)
        qty = rng.choice((1, 1, 2, 3, 5, 10))
        lines.append((desc, qty, price, _money(qty * price)))
    subtotal = _money(sum(line[3] for line in lines))
    tax = _money(subtotal * rate)
    total = _money(subtotal + tax)
    consistent = rng.random() >= 0.06
    if not consistent:
        total = _money(total + rng.choice((10.0, 100.0, -lines[0][3] if len(lines) > 1 else 50.0)))
    doc_type = "credit_note" if rng.random() < 0.1 else "invoice"
    po = f"PO-{rng.randint(1000, 9999)}" if rng.random() < 0.5 else None
    ordered = issued - timedelta(days=rng.randint(3, 20)) if rng.random() < 0.3 else None
    balance = _money(rng.choice((120.0, 75.5, 310.0))) if rng.random() < 0.2 else None
    layout = rng.choices(("labelled", "prose", "scanned"), weights=(0.5, 0.25, 0.25))[0]

    def d(day: date) -> str:
        return day.strftime(fmt.replace("%-d", str(day.day)))  # "%-d" (no padding) is not portable

    def a(value: float) -> str:
        return f"{_fmt_amount(value, country)} {currency}"

    title = "CREDIT NOTE" if doc_type == "credit_note" else "INVOICE"
    item_lines = "\n".join(
        f"  {desc} | {qty} x {a(price)} | {a(amount)}" for desc, qty, price, amount in lines
    )
    extras = []
    if po:
        extras.append(f"Purchase order: {po}")
    if ordered:
        extras.append(f"Order date: {d(ordered)}")
    if layout == "prose":
        parts = [
            f"{vendor} ({country}). {title.title()} {number} issued on {d(issued)}.",
            f"Payment terms: net {terms} days, i.e. due by {d(due)}."
            if rng.random() < 0.7
            else f"Due {d(due)}.",
            *extras,
            f"Items:\n{item_lines}",
            f"Net amount {a(subtotal)}, tax {round(rate * 100, 2):g}% {a(tax)}, amount payable {a(total)}.",
        ]
    else:
        parts = [
            f"{title}\n{vendor} · {country}",
            f"Invoice number: {number}\nInvoice date: {d(issued)}\nDue date: {d(due)}",
            *extras,
            f"Items:\n{item_lines}",
            f"Subtotal: {a(subtotal)}\nTax ({round(rate * 100, 2):g}%): {a(tax)}\nTotal: {a(total)}",
        ]
    if balance is not None:
        parts.append(f"Previous balance (already paid): {a(balance)}")
    text = "\n\n".join(parts)
    if layout == "scanned":
        text = _ocr(text, rng)
    ambiguous = style == "numeric" and (issued.day <= 12 or due.day <= 12)
    difficulty = 0.12 + {"labelled": 0.0, "prose": 0.15, "scanned": 0.25}[layout]
    difficulty += 0.12 if ambiguous else 0.0
    difficulty += 0.06 * sum(x is not None for x in (po, ordered, balance))
    difficulty += 0.05 if len(lines) > 3 else 0.0
    difficulty += 0.05 if doc_type == "credit_note" else 0.0
    difficulty = round(min(max(difficulty + rng.uniform(-0.05, 0.05), 0.02), 0.98), 3)
    return {
        "id": f"I-{index:05d}",
        "document": text,
        "country": country,
        "layout": layout,
        "date_style": style,
        "expected": {
            "invoice_number": number,
            "invoice_date": issued.isoformat(),
            "due_date": due.isoformat(),
            "subtotal": subtotal,
            "tax": tax,
            "total": total,
        },
        "header": {"doc_type": doc_type, "vendor": vendor, "currency": currency},
        "terms_days": terms,
        "consistent": consistent,
        "approve": consistent and doc_type == "invoice",
        "distractors": {
            "po_number": po,
            "order_date": ordered.isoformat() if ordered else None,
            "previous_balance": balance,
        },
        "difficulty": difficulty,
    }


def invoices(n: int = N_INVOICES, seed: int = SEED) -> list[dict[str, object]]:
    """``n`` invoices with unique documents."""
    rng = random.Random(seed)
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    while len(rows) < n:
        row = invoice(rng, len(rows) + 1)
        if row["document"] not in seen:
            seen.add(str(row["document"]))
            rows.append(row)
    return rows


def build() -> dict[Path, list[dict[str, object]]]:
    """Every file this script writes, with its rows."""
    return {OUT / "invoices.jsonl": invoices()}


if __name__ == "__main__":
    main_for(build)
