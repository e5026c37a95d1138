"""Compose faithful and unfaithful answers from the shared corpus passages.

Run from this folder: `python compose_grounding.py [CORPUS_DIR]` rewrites grounding_dev.jsonl
and grounding_test.jsonl. Dev answers come from odd-numbered documents, test answers from
even-numbered ones, so the splits share no source passage.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[4] / "shared" / "corpus"

PARAPHRASES_EN = [
    (r"\bYou must\b", "You need to"),
    (r"\bmust\b", "have to"),
    (r"\bobtain\b", "get"),
    (r"\bYou can\b", "It is possible to"),
    (r"\binformation\b", "details"),
    (r"\bbefore\b", "prior to"),
    (r"\bhowever\b", "but"),
    (r"\bpurchase\b", "buy"),
    (r"\brequired\b", "needed"),
    (r"\bassistance\b", "help"),
]
PARAPHRASES_ES = [
    (r"\bdebe\b", "tiene que"),
    (r"\bpuede\b", "es posible"),
    (r"\bobtener\b", "conseguir"),
    (r"\binformación\b", "datos"),
    (r"\bantes de\b", "previo a"),
]
FABRICATED_EN = [
    "You can get an automatic 12-month extension by calling the department.",
    "The department waives all penalties for first-time filers who apply online.",
    "Permits are issued the same day if you apply before noon.",
    "Anyone who earns less than $90,000 does not need to file a return.",
    "The state sends every refund by check within 5 business days.",
    "Small businesses are exempt from sales tax for their first three years.",
    "You only need your driver's license number to open a permit account.",
    "The fee for this application is $350 and it cannot be refunded.",
    "Construction sites under 10 acres never need a stormwater permit.",
    "Veterans automatically receive a 50% discount on all state taxes.",
]
FABRICATED_ES = [
    "Puede obtener una prórroga automática de 12 meses llamando al departamento.",
    "Las multas se eliminan para todas las personas que declaran por primera vez.",
    "El reembolso siempre llega por cheque en 5 días hábiles.",
    "Los negocios pequeños no pagan impuestos durante sus primeros tres años.",
    "La solicitud cuesta $350 y no se devuelve.",
]
SWAPS_EN = [
    ("federal", "state"),
    ("state", "federal"),
    ("before", "after"),
    ("after", "before"),
    ("more", "less"),
    ("less", "more"),
    ("employer", "employee"),
    ("monthly", "yearly"),
    ("increase", "decrease"),
    ("required", "optional"),
    ("online", "by mail"),
    ("first", "last"),
    ("minimum", "maximum"),
    ("all", "some"),
]
SWAPS_ES = [
    ("federal", "estatal"),
    ("estatal", "federal"),
    ("antes", "después"),
    ("más", "menos"),
    ("menos", "más"),
    ("empleador", "empleado"),
    ("todos", "algunos"),
    ("mensual", "anual"),
    ("primer", "último"),
]
NEGATIONS_EN = [
    (r"\bmust\b", "do not need to"),
    (r"\bcan\b", "cannot"),
    (r"\bis\b", "is not"),
    (r"\bare\b", "are not"),
    (r"\bwill\b", "will not"),
]
NEGATIONS_ES = [
    (r"\bdebe\b", "no debe"),
    (r"\bpuede\b", "no puede"),
    (r"\bes\b", "no es"),
    (r"\bson\b", "no son"),
]


def paragraphs(path: Path) -> tuple[str, list[str]]:
    """Return a document's language and its prose paragraphs of 30 to 140 words."""
    text = path.read_text(encoding="utf-8")
    language = "es" if re.search(r"^language:\s*es", text, re.MULTILINE) else "en"
    body = text.split("---", 2)[-1]
    found = []
    for block in re.split(r"\n\s*\n", body):
        block = " ".join(line.strip() for line in block.splitlines())
        if block.startswith(("#", "|", "-", "*", ">")) or "http" in block:
            continue
        if 30 <= len(block.split()) <= 140 and block.count(".") >= 2:
            found.append(block)
    return language, found


def sentences(text: str) -> list[str]:
    """Split a paragraph into sentences of at least six words."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z¿¡ÁÉÍÓÚÑ])", text)
    return [part for part in parts if len(part.split()) >= 6]


def paraphrase(sentence: str, language: str, rng: random.Random) -> str:
    """Reword a sentence lightly, as a model's answer would."""
    rules = PARAPHRASES_EN if language == "en" else PARAPHRASES_ES
    for pattern, replacement in rng.sample(rules, k=min(3, len(rules))):
        sentence = re.sub(pattern, replacement, sentence, count=1)
    return re.sub(r"\s*\([^)]*\)", "", sentence)


def unfaithful(
    kind: str, chosen: list[str], other: list[str], language: str, rng: random.Random
) -> str | None:
    """Build one unfaithful answer of a kind, or None when the passage does not allow it."""
    if kind == "number":
        for index, sentence in enumerate(chosen):
            numbers = re.findall(r"\d[\d,]*", sentence)
            if numbers:
                old = rng.choice(numbers)
                new = str(int(old.replace(",", "")) * rng.choice([2, 3]) + rng.randint(1, 9))
                changed = list(chosen)
                changed[index] = sentence.replace(old, new, 1)
                return " ".join(changed)
        return None
    if kind == "unrelated":
        return " ".join(other[:2]) or None
    if kind == "fabricated":
        pool = FABRICATED_EN if language == "en" else FABRICATED_ES
        return f"{chosen[0]} {rng.choice(pool)}"
    if kind == "swapped":
        rules = SWAPS_EN if language == "en" else SWAPS_ES
        for index, sentence in enumerate(chosen):
            for old, new in rules:
                if re.search(rf"\b{old}\b", sentence):
                    changed = list(chosen)
                    changed[index] = re.sub(rf"\b{old}\b", new, sentence, count=1)
                    return " ".join(changed)
        return None
    if kind == "mixed":
        return f"{' '.join(chosen)} {other[0]}" if other else None
    if kind == "negated":
        rules = NEGATIONS_EN if language == "en" else NEGATIONS_ES
        for index, sentence in enumerate(chosen):
            for pattern, replacement in rules:
                if re.search(pattern, sentence):
                    changed = list(chosen)
                    changed[index] = re.sub(pattern, replacement, sentence, count=1)
                    return " ".join(changed)
        return None
    raise ValueError(f"unknown unfaithful kind {kind!r}")


def main() -> None:
    """Write both splits next to this script."""
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    here = Path(__file__).parent
    documents = sorted(corpus.glob("[0-9][0-9][0-9]-*.md"))
    loaded = {path.name: paragraphs(path) for path in documents}
    kinds = ["number", "unrelated", "fabricated", "negated", "swapped", "mixed"]
    for split, parity, seed in (("dev", 1, 3), ("test", 0, 7)):
        rng = random.Random(seed)
        records = []
        names = [name for name in loaded if int(name[:3]) % 2 == parity and loaded[name][1]]
        for name in names:
            language, blocks = loaded[name]
            for block in rng.sample(blocks, k=min(3, len(blocks))):
                chosen = sentences(block)[:2]
                if len(chosen) < 2:
                    continue
                # Two distractor passages from other documents of the same language.
                others = [n for n in names if n != name and loaded[n][0] == language]
                sources = [rng.choice(others) for _ in range(2)]
                distractors = [rng.choice(loaded[source][1]) for source in sources]
                passages = [block, *distractors]
                faithful = " ".join(paraphrase(s, language, rng) for s in chosen) + " [1]"
                records.append(
                    {
                        "lang": language,
                        "doc": name,
                        "faithful": True,
                        "kind": "faithful",
                        "answer": faithful,
                        "passages": passages,
                    }
                )
                # A faithful answer that draws on two of the passages, citing both.
                second = sentences(distractors[0])[:1]
                if second:
                    combined = (
                        f"{paraphrase(chosen[0], language, rng)} [1] "
                        f"{paraphrase(second[0], language, rng)} [2]"
                    )
                    record = {"lang": language, "doc": name, "faithful": True}
                    record.update(kind="faithful_two_passages", answer=combined)
                    records.append({**record, "passages": passages})

                # The unrelated answer must come from a document none of the passages is from.
                far = [
                    n
                    for n in loaded
                    if n not in {name, *sources} and loaded[n][0] == language and loaded[n][1]
                ]
                other = sentences(rng.choice(loaded[rng.choice(far)][1]))

                # Two unfaithful answers of different kinds per passage.
                made = 0
                for kind in rng.sample(kinds, k=len(kinds)):
                    answer = unfaithful(kind, chosen, other, language, rng)
                    if answer and made < 2:
                        record = {"lang": language, "doc": name, "faithful": False}
                        record.update(kind=kind, answer=answer + " [1]")
                        records.append({**record, "passages": passages})
                        made += 1
        with (here / f"grounding_{split}.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
