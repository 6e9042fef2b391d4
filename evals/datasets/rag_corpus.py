"""Generate the RAG Q&A dataset: a small product-documentation corpus and questions with cited answers.

    python -m evals.datasets.rag_corpus            # writes workflows/rag_qa/data/{corpus,questions}.jsonl
    python -m evals.datasets.rag_corpus --check    # exits 1 if the committed files differ

Seeded and deterministic. The corpus documents a fictional object-storage service, "Nimbus"; each fact
(subject, attribute, value) lives in one document, and sibling documents (other tiers, other regions) state
the same attribute with other values — the confusions retrieval and answering really face. Release notes
repeat some facts with their old values. Questions ask for one fact (paraphrased to different degrees);
some need two documents ("the plan that offers X"). Each question has its gold answer value and gold
documents, so citation correctness and stability can be scored.
"""

from __future__ import annotations

import random
from pathlib import Path

from evals.datasets.common import main_for

SEED = 20240613
N_QUESTIONS = 400
OUT = Path(__file__).resolve().parents[2] / "workflows" / "rag_qa" / "data"

TIERS = {
    "Hot": ("$0.023 per GB-month", "no minimum", "milliseconds", "99.99%"),
    "Cool": ("$0.012 per GB-month", "30 days", "milliseconds", "99.9%"),
    "Cold": ("$0.006 per GB-month", "90 days", "up to 12 hours", "99.9%"),
    "Archive": ("$0.001 per GB-month", "180 days", "up to 48 hours", "99%"),
}
REGIONS = {
    "Frankfurt": ("eu-central-1", "2019", "3"), "Dublin": ("eu-west-1", "2018", "3"),
    "Virginia": ("us-east-1", "2016", "6"), "Oregon": ("us-west-2", "2017", "4"),
    "Tokyo": ("ap-northeast-1", "2020", "3"), "Singapore": ("ap-southeast-1", "2020", "3"),
    "Sydney": ("ap-southeast-2", "2021", "3"), "São Paulo": ("sa-east-1", "2022", "2"),
    "Mumbai": ("ap-south-1", "2022", "3"), "Toronto": ("ca-central-1", "2023", "2"),
}  # fmt: skip
PLANS = {
    "Starter": ("$9 per month", "100 GB", "48 hours"),
    "Business": ("$49 per month", "1 TB", "8 hours"),
    "Enterprise": ("$399 per month", "20 TB", "1 hour"),
}
FEATURES = {
    "versioning": ("Starter", "2017", "keeps up to 100 versions per object"),
    "lifecycle rules": ("Starter", "2018", "allows up to 1,000 rules per bucket"),
    "cross-region replication": ("Business", "2019", "replicates new objects within 15 minutes"),
    "object lock": ("Enterprise", "2021", "supports retention periods of up to 10 years"),
    "server-side encryption": ("Starter", "2016", "uses AES-256 by default"),
    "access logs": ("Business", "2018", "delivers log files every 5 minutes"),
    "event notifications": ("Business", "2020", "supports up to 100 notification targets per bucket"),
    "static website hosting": ("Starter", "2019", "serves up to 5,000 requests per second per bucket"),
}
LIMITS = {
    "Upload limits": (
        ("maximum object size", "5 TB"),
        ("maximum single-request upload", "5 GB"),
        ("maximum number of multipart parts", "10,000"),
    ),
    "Bucket limits": (
        ("maximum number of buckets per account", "1,000"),
        ("maximum bucket name length", "63 characters"),
    ),
    "Request limits": (
        ("write request rate per prefix", "3,500 requests per second"),
        ("read request rate per prefix", "5,500 requests per second"),
    ),
}
TOOLS = {
    "Nimbus CLI": ("4.2.1", "Python 3.9"),
    "Python SDK": ("3.8.0", "Python 3.8"),
    "Go SDK": ("2.5.3", "Go 1.21"),
    "JavaScript SDK": ("5.1.0", "Node.js 18"),
    "Terraform provider": ("1.14.2", "Terraform 1.5"),
}
OLD_VALUES = {  # release notes: what some facts used to be
    ("Upload limits", "maximum object size"): "1 TB",
    ("Cool", "minimum storage duration"): "60 days",
    ("Business", "monthly price"): "$39 per month",
    ("Nimbus CLI", "latest version"): "3.9.0",
}


def _fact(subject: str, attribute: str, value: str, sentence: str) -> dict[str, str]:
    return {"subject": subject, "attribute": attribute, "value": value, "sentence": sentence}


def corpus() -> list[dict[str, object]]:
    """The documentation corpus: one document per subject, with its facts (``facts`` is for the oracle)."""
    docs: list[tuple[str, list[dict[str, str]]]] = []
    for tier, (price, minimum, retrieval, sla) in TIERS.items():
        facts = [
            _fact(tier, "price", price, f"{tier} storage costs {price}."),
            _fact(tier, "minimum storage duration", minimum, f"The minimum storage duration is {minimum}."),
            _fact(tier, "retrieval time", retrieval, f"Objects are retrieved in {retrieval}."),
            _fact(tier, "availability", sla, f"The availability commitment is {sla}."),
        ]
        docs.append((f"{tier} storage tier", facts))
    for region, (code, year, zones) in REGIONS.items():
        facts = [
            _fact(region, "region code", code, f"The {region} region has the code {code}."),
            _fact(region, "launch year", year, f"It opened in {year}."),
            _fact(region, "number of availability zones", zones, f"It has {zones} availability zones."),
        ]
        docs.append((f"{region} region", facts))
    for plan, (price, storage, support) in PLANS.items():
        facts = [
            _fact(plan, "monthly price", price, f"The {plan} plan costs {price}."),
            _fact(plan, "included storage", storage, f"It includes {storage} of storage."),
            _fact(plan, "support response time", support, f"Support responds within {support}."),
        ]
        docs.append((f"{plan} plan", facts))
    for feature, (plan, year, detail) in FEATURES.items():
        facts = [
            _fact(
                feature, "minimum plan", plan, f"{feature.capitalize()} is available from the {plan} plan."
            ),
            _fact(feature, "release year", year, f"It was released in {year}."),
            _fact(feature, "limit", detail, f"It {detail}."),
        ]
        docs.append((f"{feature.capitalize()}", facts))
    for title, rows in LIMITS.items():
        facts = [_fact(title, a, v, f"The {a} is {v}.") for a, v in rows]
        docs.append((title, facts))
    for tool, (version, runtime) in TOOLS.items():
        facts = [
            _fact(tool, "latest version", version, f"The latest version of the {tool} is {version}."),
            _fact(tool, "minimum runtime", runtime, f"It requires {runtime} or newer."),
        ]
        docs.append((tool, facts))
    notes = [
        _fact(subject, attribute, old, f"Before this release, the {attribute} of {subject} was {old}.")
        for (subject, attribute), old in OLD_VALUES.items()
    ]
    docs.append(("Release notes 2023", notes))
    rows: list[dict[str, object]] = []
    for i, (title, facts) in enumerate(docs, start=1):
        text = " ".join(f["sentence"] for f in facts)
        rows.append({"id": f"doc-{i:03d}", "title": title, "text": text, "facts": facts})
    return rows


QUESTION_TEMPLATES = (
    ("What is the {attribute} of {subject}?", 0.0),
    ("Tell me the {attribute} for {subject}.", 0.05),
    ("I'm evaluating Nimbus. Regarding {subject}, what's the {attribute}?", 0.1),
    ("Quick one: {attribute} — {subject}?", 0.15),
)
CROWDED = {  # attributes that sibling documents state too
    "price", "minimum storage duration", "retrieval time", "availability", "region code", "launch year",
    "number of availability zones", "monthly price",
}  # fmt: skip


def questions(
    docs: list[dict[str, object]], n: int = N_QUESTIONS, seed: int = SEED
) -> list[dict[str, object]]:
    """``n`` questions with gold answer value and gold document ids."""
    rng = random.Random(seed)
    facts = [(doc, fact) for doc in docs if doc["title"] != "Release notes 2023" for fact in doc["facts"]]  # type: ignore[attr-defined]
    by_subject = {fact["subject"]: doc for doc, fact in facts}
    old = {(s, a) for s, a in OLD_VALUES}
    rows: list[dict[str, object]] = []
    seen: set[str] = set()
    while len(rows) < n:
        if rng.random() < 0.15:  # two hops: the plan that offers a feature → that plan's fact
            feature = rng.choice(list(FEATURES))
            plan = FEATURES[feature][0]
            attribute = rng.choice(("monthly price", "included storage", "support response time"))
            plan_doc = by_subject[plan]
            value = next(f["value"] for f in plan_doc["facts"] if f["attribute"] == attribute)  # type: ignore[attr-defined]
            question = f"What is the {attribute} of the cheapest plan that includes {feature}?"
            gold = [by_subject[feature]["id"], plan_doc["id"]]
            difficulty = 0.65
            subject = plan
        else:
            doc, fact = rng.choice(facts)
            template, extra = rng.choice(QUESTION_TEMPLATES)
            subject, attribute, value = fact["subject"], fact["attribute"], fact["value"]
            question = template.format(attribute=attribute, subject=subject)
            gold = [doc["id"]]
            difficulty = 0.28 + extra + (0.15 if attribute in CROWDED else 0.0)
            difficulty += 0.2 if (subject, attribute) in old else 0.0
        if question in seen:
            continue
        seen.add(question)
        difficulty = round(min(max(difficulty + rng.uniform(-0.05, 0.05), 0.02), 0.98), 3)
        rows.append(
            {
                "id": f"Q-{len(rows) + 1:04d}",
                "question": question,
                "subject": subject,
                "attribute": attribute,
                "answer": value,
                "gold_docs": gold,
                "hops": len(gold),
                "difficulty": difficulty,
            }
        )
    return rows


def build() -> dict[Path, list[dict[str, object]]]:
    """Every file this script writes, with its rows."""
    docs = corpus()
    return {OUT / "corpus.jsonl": docs, OUT / "questions.jsonl": questions(docs)}


if __name__ == "__main__":
    main_for(build)
