"""Detection of personal data in English and Spanish text."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from steward_guardrail.name_lexicon import NameLexicon, load_name_lexicon
from steward_guardrail.normalization import fold, strip_accents


class PiiKind(StrEnum):
    """Kinds of personal data; the value is the placeholder's type name."""

    SSN = "SSN"
    ITIN = "ITIN"
    EIN = "EIN"
    PHONE = "PHONE"
    EMAIL = "EMAIL"
    ADDRESS = "ADDRESS"
    CARD = "CARD"
    ROUTING = "ROUTING"
    ACCOUNT = "ACCOUNT"
    PASSPORT = "PASSPORT"
    DRIVER_LICENSE = "DRIVER_LICENSE"
    DOB = "DOB"
    NAME = "NAME"


STRUCTURED_KINDS = frozenset(PiiKind) - {PiiKind.ADDRESS, PiiKind.NAME}


@dataclass(frozen=True)
class PiiSpan:
    """One piece of personal data found in a text, by offsets into that text."""

    kind: PiiKind
    start: int
    end: int
    score: float

    def value(self, text: str) -> str:
        """Return the covered slice of the text the span was found in."""
        return text[self.start : self.end]


# Priority when two candidates overlap: lower wins, then the longer one.
_PRIORITY = {
    PiiKind.EMAIL: 0, PiiKind.CARD: 1, PiiKind.SSN: 2, PiiKind.ITIN: 2, PiiKind.EIN: 2,
    PiiKind.ADDRESS: 3, PiiKind.PHONE: 4, PiiKind.ROUTING: 5, PiiKind.ACCOUNT: 5,
    PiiKind.PASSPORT: 5, PiiKind.DRIVER_LICENSE: 5, PiiKind.DOB: 6, PiiKind.NAME: 7,
}  # fmt: skip

# Context words, matched on lower-case accent-free text; the nearest one before a number
# decides what the number is.
_CONTEXT = {
    "ssn": r"ssn|ss#|s\.s\.n|social security(?: number| no| #)?|seguro social|\bss\b",
    "itin": r"itin|individual taxpayer identification|identificacion personal del contribuyente",
    "ein": r"ein|fein|employer identification|federal tax id|identificacion patronal"
    r"|identificacion (?:del|de) empleador",
    "tax_id": r"tax id|taxpayer id|tin|numero de identificacion fiscal",
    "routing": r"routing|aba|rtn|transit number|\bruta\b|numero de transito",
    "account": r"account|acct|a/c|checking|savings|cuenta|cta\.?",
    "passport": r"passport|pasaporte",
    "license": r"drivers?'?s?'? licen[cs]e|driving licen[cs]e|\bdl\b|\bdln\b"
    r"|license (?:number|no|#)"
    r"|licencia(?: de (?:conducir|manejo|manejar))?|licen[cs]e",
    "card": r"card|credit|debit|visa|mastercard|amex|tarjeta",
    "phone": r"phone|call|cell|mobile|\btel\b|telephone|text me|fax|telefono|celular|llam\w*"
    r"|marca\w*|whatsapp|contact|contacto",
    "birth": r"born|birth|\bdob\b|d\.o\.b|birthday|birthdate|naci\w*|cumpleanos|fecha de nac\w*",
    "other_date": r"due|deadline|\bby\b|before|after|until|expire\w*|filed|paid|received|sent"
    r"|mailed|issued|vence|vencimiento|limite|antes|despues|hasta|pague|envie|recibi\w*",
}
_CONTEXT_RE = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _CONTEXT.items()))
# A period ends a sentence unless it closes an abbreviation such as "no." or "Mr.".
_SENTENCE_BREAK = re.compile(r"[?!\n;]|(?<!\bno)(?<!\bnr)(?<!\bdr)(?<!\bmr)(?<!\bms)\.\s")

_NUMBER_EDGE_BEFORE = r"(?<![\w$.,/-])"
_NUMBER_EDGE_AFTER = r"(?![\w%/]|[.,-]\d)"
_SSN_LIKE = re.compile(
    _NUMBER_EDGE_BEFORE + r"(\d{3})([- ]?)(\d{2})\2(\d{4})" + _NUMBER_EDGE_AFTER
)
_EIN_LIKE = re.compile(_NUMBER_EDGE_BEFORE + r"(\d{2})-(\d{7})" + _NUMBER_EDGE_AFTER)
_CARD_LIKE = re.compile(_NUMBER_EDGE_BEFORE + r"(?:\d[ -]?){12,18}\d" + _NUMBER_EDGE_AFTER)
_DIGITS = re.compile(_NUMBER_EDGE_BEFORE + r"\d(?:[\d-]{4,20})\d" + _NUMBER_EDGE_AFTER)
_ALNUM_ID = re.compile(r"(?<![\w-])(?=[A-Z0-9-]*\d{4})[A-Z]{1,3}[0-9][A-Z0-9-]{4,16}(?![\w-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+?1[\s.-]?)?(?:\([2-9]\d{2}\)\s?|[2-9]\d{2}[\s.-])[2-9]\d{2}[\s.-]\d{4}"
    r"|\+52[\s.-]?\d{2,3}[\s.-]?\d{3,4}[\s.-]?\d{4}"
    r"|\+34[\s.-]?\d{3}[\s.-]?\d{3}[\s.-]?\d{3}"
    r"|\+?1[\s.-]?[2-9]\d{2}[\s.-]?[2-9]\d{2}[\s.-]?\d{4})(?![\w])"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_URL = re.compile(r"\bhttps?://\S+|\bwww\.\S+", re.IGNORECASE)

_MONTHS_EN = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_MONTHS_ES = (
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre"
    r"|noviembre|diciembre)"
)
_DATE = re.compile(
    r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})(?!\d)"
    r"|\d{4}-\d{2}-\d{2}(?!\d)"
    rf"|{_MONTHS_EN}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}(?!\d)"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS_EN},?\s+\d{{4}}(?!\d)"
    rf"|\d{{1,2}}\s+de\s+{_MONTHS_ES}\s+(?:de|del)\s+\d{{4}}(?!\d))",
    re.IGNORECASE,
)

_STATES = (
    r"A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|PR|RI"
    r"|S[CD]|T[NX]|UT|V[TA]|W[AVIY]|Texas|California|Florida|Arizona|New Mexico|New York"
    r"|Illinois|Ohio|Colorado|Nevada|Georgia|Oregon|Washington|Puerto Rico"
)
_STREET_SUFFIX = (
    r"Street|St|Avenue|Ave|Av|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl"
    r"|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Trail|Trl|Square|Sq|Loop|Alley|Plaza|Row|Pike"
    r"|Crossing|Highway|Hwy|Expressway|Freeway|Path|Run|Point|Pt|Cove|Ridge|Bend"
)
_UNIT = (
    r"(?:,?\s*(?:Apt|Apartment|Unit|Suite|Ste|Bldg|Building|Floor|Fl|Room|Rm|Lot|Space|#)\.?"
    r"\s*#?\s*[A-Za-z0-9-]{1,6}\b)"
)
_CITY_STATE_ZIP = (
    rf"(?:,\s*(?:[A-Z][A-Za-z.'-]+\s?){{1,3}}(?:,?\s*(?:{_STATES})\b\.?)?(?:,?\s*\d{{5}}(?:-\d{{4}})?)?"
    rf"|,?\s*(?:{_STATES})\b\.?(?:\s*\d{{5}}(?:-\d{{4}})?)?)?"
)
_STREET_WORD = r"(?:[A-Z][A-Za-z'.-]*|\d{1,3}(?:st|nd|rd|th)|[A-Z]\.)"
_ADDRESS_EN = re.compile(
    r"(?<![\w$#-])\d{1,6}(?:-\d{1,4})?[A-Za-z]?\s+"
    r"(?:(?:N|S|E|W|NE|NW|SE|SW|North|South|East|West)\.?\s+)?"
    rf"(?:(?:{_STREET_WORD}\s+){{1,4}}(?:{_STREET_SUFFIX})\b\.?(?:\s+(?:N|S|E|W|NE|NW|SE|SW)\b\.?)?"
    r"|(?:Highway|Hwy|Route|Rte|County Road|CR|State Road|SR|FM|Farm to Market Road)\s+\d{1,4}"
    r"(?:\s+(?:North|South|East|West|N|S|E|W)\b)?)"
    rf"{_UNIT}?{_CITY_STATE_ZIP}"
)
_ADDRESS_ES = re.compile(
    r"\b(?:Calle|C/|Avenida|Avda\.|Av\.|Camino|Paseo|Carretera|Calzada|Callejon|Callejón"
    r"|Privada|Cerrada|Boulevard|Bulevar|Blvd\.)\s+"
    r"(?:(?:[A-ZÁÉÍÓÚÑ0-9][\wÁÉÍÓÚÑáéíóúñ'.-]*|de|del|la|las|los|y)\s+){1,6}?"
    r"(?:#\s*|No\.\s*|Núm\.\s*|Num\.\s*|número\s+)?\d{1,5}[A-Za-z]?\b"
    r"(?:,?\s*(?:Int\.|Interior|Apto\.?|Apt\.?|Depto\.?|Departamento|Piso)\s*[\w-]{1,5})?"
    r"(?:,\s*(?:Col\.|Colonia|Urb\.|Urbanización)\s+(?:[A-ZÁÉÍÓÚÑ][\wáéíóúñ]*\s?){1,3})?"
    rf"{_CITY_STATE_ZIP}"
)
_PO_BOX = re.compile(
    r"\b(?:P\.?\s?O\.?\s*Box|Post Office Box|Apartado(?: Postal)?|Apdo\.)\s*#?\s*\d{1,6}"
    rf"{_CITY_STATE_ZIP}",
    re.IGNORECASE,
)

# A capitalised word, allowing "O'Brien", "McDonald" and "García-López".
_NAME_WORD = (
    r"(?:[A-ZÁÉÍÓÚÑÜ](?:[a-záéíóúñü]+|'[A-Z][a-z]+)(?:[A-Z][a-z]+)?"
    r"(?:-[A-ZÁÉÍÓÚÑÜ][a-záéíóúñü]+)?)"
)
# Names stay on one line: a heading and the line after it are not one name.
_NAME_RUN = re.compile(
    rf"{_NAME_WORD}(?:[ \t]+(?:(?:de|del|de la|de los|van|von|da|di|y)[ \t]+)?"
    rf"(?:{_NAME_WORD}|[A-Z]\.))*(?:,?[ \t]+(?:Jr|Sr|II|III|IV)\b\.?)?"
)
_NAME_TOKEN = re.compile(rf"{_NAME_WORD}|[A-Z]\.|\b(?:de|del|la|los|van|von|da|di|y)\b")
_STRONG_CUE = re.compile(
    r"(?:\b(?:mr|mrs|ms|miss|dr|sr|sra|srta|don|dona|senor|senora|senorita)\.?[ \t]+"
    r"|\b(?:my name is|my name's|name is|name:|nombre:|me llamo|mi nombre es|se llama|named"
    r"|llamad[oa]|attn:?"
    r"|my (?:husband|wife|son|daughter|mother|father|mom|dad|brother|sister|neighbou?r|spouse"
    r"|partner|landlord|tenant|employer|boss|accountant|client|friend|grandmother|grandfather"
    r"|grandson|granddaughter|aunt|uncle|cousin|child|niece|nephew|caseworker|preparer"
    r"|bookkeeper|ex-wife|ex-husband)"
    r"|mi (?:esposo|esposa|marido|hijo|hija|madre|padre|mama|papa|hermano|hermana|vecino|vecina"
    r"|pareja|jefe|jefa|contador|contadora|cliente|amigo|amiga|abuela|abuelo|tia|tio|primo"
    r"|prima|sobrino|sobrina|suegra|suegro|nieto|nieta|inquilino|arrendador|casero)"
    r"|on behalf of|a nombre de|en nombre de|de parte de|for my client)[ \t]*[,:'\"-]?[ \t]*)$"
)
# Sign-offs and self-introductions may name a person by a given name alone.
_SIGNOFF_CUE = re.compile(
    r"\b(?:i am|i'm|this is|soy|signed|regards|sincerely|thanks|thank you|saludos|atentamente"
    r"|cordialmente|gracias|best|cheers|yours|muchas gracias)[ \t]*[,:!.-]?\s*$"
)
_PREPOSITION_CUE = re.compile(
    r"\b(?:called|with|con|from|to|for|para|contact|and|y|or|o|named|spouse|taxpayer"
    r"|contribuyente|dependent|dependiente|beneficiary|beneficiario)[ \t]+$"
)
_PLACE_BEFORE = re.compile(
    r"(?:\b(?:san|santa|santo|fort|ft|mount|mt|lake|port|saint|st|los|las|el|new|calle|avenida"
    r"|av|colonia|col|ciudad|municipio|condado|parque|escuela|universidad|hospital|puente"
    r"|biblioteca|aeropuerto|in|near|en|cerca de|of|del|de la|departamento de|oficina de"
    r"|secretaria de|ministerio de|department of|office of|bureau of|division of)\.?\s+)$"
)
_PLACE_AFTER = frozenset(
    [
        "COUNTY",
        "STREET",
        "ST",
        "AVENUE",
        "AVE",
        "ROAD",
        "RD",
        "BOULEVARD",
        "BLVD",
        "DRIVE",
        "LANE",
        "WAY",
        "PARK",
        "PARKWAY",
        "BRIDGE",
        "BUILDING",
        "CENTER",
        "CENTRE",
        "LIBRARY",
        "HOSPITAL",
        "SCHOOL",
        "ELEMENTARY",
        "HIGH",
        "MIDDLE",
        "UNIVERSITY",
        "COLLEGE",
        "INSTITUTE",
        "MEMORIAL",
        "HIGHWAY",
        "HWY",
        "LAKE",
        "RIVER",
        "CREEK",
        "MOUNTAIN",
        "AIRPORT",
        "STATION",
        "SQUARE",
        "PLAZA",
        "HALL",
        "HEIGHTS",
        "HILLS",
        "BEACH",
        "CITY",
        "TOWNSHIP",
        "VILLAGE",
        "FOREST",
        "NATIONAL",
        "STATE",
        "FEDERAL",
        "COURTHOUSE",
        "TOWER",
        "DAM",
        "TUNNEL",
        "ISLAND",
        "BAY",
        "VALLEY",
        "CANYON",
        "REGIONAL",
        "COMMUNITY",
        "INC",
        "LLC",
        "CORP",
        "CORPORATION",
        "COMPANY",
        "CO",
        "LTD",
        "ASSOCIATES",
        "CONSTRUCTION",
        "LANDSCAPING",
        "SERVICES",
        "BAKERY",
        "RESTAURANT",
        "FOUNDATION",
        "ACT",
        "LAW",
        "PROGRAM",
        "FUND",
        "TRUST",
        "GROUP",
        "PARTNERS",
        "ENTERPRISES",
        "FARMS",
        "MARKET",
        "STORE",
        "OFFICE",
        "BRANCH",
        "ANNEX",
        "CORPS",
        "ARMY",
        "NAVY",
        "FORCE",
        "GUARD",
    ]
)

# Given names that also open place names ("Santa Clara", "San Juan").
_PLACE_PREFIXES = frozenset({"SAN", "SANTA", "SANTO", "FORT", "PORT", "MOUNT", "LAKE", "SAINT"})

_ITIN_MIDDLE = {*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)}
_EIN_PREFIXES = {
    *range(1, 7), *range(10, 17), *range(20, 28), *range(30, 49), *range(50, 69),
    *range(71, 78), *range(80, 89), *range(90, 96), 98, 99,
}  # fmt: skip


def luhn_valid(digits: str) -> bool:
    """Check a payment card number's Luhn checksum."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def aba_valid(digits: str) -> bool:
    """Check an ABA routing number's prefix and weighted checksum."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    prefix = int(digits[:2])
    if not (prefix <= 12 or 21 <= prefix <= 32 or 61 <= prefix <= 72 or prefix == 80):
        return False
    weights = (3, 7, 1) * 3
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 10 == 0


def ssn_valid(digits: str) -> bool:
    """Check the SSA's structural rules for a Social Security number."""
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in {"000", "666"} and area[0] != "9" and group != "00" and serial != "0000"


def itin_valid(digits: str) -> bool:
    """Check the IRS's structural rules for an ITIN (9XX-7X-XXXX and the other ranges)."""
    return digits[0] == "9" and int(digits[3:5]) in _ITIN_MIDDLE


def ein_valid(digits: str) -> bool:
    """Check that an EIN starts with a prefix the IRS assigns."""
    return len(digits) == 9 and int(digits[:2]) in _EIN_PREFIXES


class PiiDetector:
    """Finds personal data in English and Spanish text with patterns, checksums and context."""

    def __init__(self, lexicon: NameLexicon | None = None) -> None:
        self._lexicon = lexicon or load_name_lexicon()
        self._finders: list[Callable[[str, str], Iterator[PiiSpan]]] = [
            self._emails,
            self._cards,
            self._formatted_ids,
            self._addresses,
            self._phones,
            self._context_numbers,
            self._birth_dates,
            self._names,
        ]

    def detect(self, text: str) -> list[PiiSpan]:
        """Return non-overlapping personal-data spans, by offsets into the given text."""
        # Detect on folded text so look-alike digits and hidden characters change nothing.
        folded = fold(text)
        plain = folded.text
        lowered = strip_accents(plain).lower()
        if len(lowered) != len(plain):
            lowered = plain.lower()

        # Every finder proposes candidates; URLs are never personal data on their own.
        urls = [match.span() for match in _URL.finditer(plain)]
        candidates = [
            span
            for finder in self._finders
            for span in finder(plain, lowered)
            if not any(start <= span.start and span.end <= end for start, end in urls)
        ]

        # Keep the strongest candidate where two overlap.
        candidates.sort(key=lambda span: (_PRIORITY[span.kind], -(span.end - span.start)))
        kept: list[PiiSpan] = []
        for span in candidates:
            if all(span.end <= other.start or other.end <= span.start for other in kept):
                kept.append(span)

        # Map back to the caller's text.
        mapped = []
        for span in sorted(kept, key=lambda item: item.start):
            start, end = folded.original_span(span.start, span.end)
            mapped.append(PiiSpan(span.kind, start, end, span.score))
        return mapped

    @staticmethod
    def _nearest_context(lowered: str, start: int, reach: int = 48) -> str | None:
        """Return the context group nearest before a position, within its sentence."""
        window_start = max(0, start - reach)
        window = lowered[window_start:start]
        breaks = list(_SENTENCE_BREAK.finditer(window))
        if breaks:
            window = window[breaks[-1].end() :]
        best: tuple[int, str] | None = None
        for match in _CONTEXT_RE.finditer(window):
            name = match.lastgroup
            if name is not None and (best is None or match.end() >= best[0]):
                best = (match.end(), name)
        return best[1] if best else None

    def _emails(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find e-mail addresses."""
        for match in _EMAIL.finditer(plain):
            yield PiiSpan(PiiKind.EMAIL, *match.span(), 0.99)

    def _cards(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find payment card numbers that pass the Luhn check."""
        for match in _CARD_LIKE.finditer(plain):
            digits = re.sub(r"\D", "", match.group(0))
            if 13 <= len(digits) <= 19 and luhn_valid(digits):
                context = self._nearest_context(lowered, match.start())
                if digits[0] in "3456" or context == "card":
                    yield PiiSpan(PiiKind.CARD, *match.span(), 0.97)

    def _formatted_ids(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find SSNs, ITINs and EINs written in their usual dashed shapes."""
        for match in _SSN_LIKE.finditer(plain):
            digits = "".join(match.group(1, 3, 4))
            context = self._nearest_context(lowered, match.start())
            separated = bool(match.group(2))
            if itin_valid(digits) and (separated or context in {"itin", "tax_id", "ssn"}):
                yield PiiSpan(PiiKind.ITIN, *match.span(), 0.95)
            elif ssn_valid(digits) and (separated or context in {"ssn", "tax_id"}):
                yield PiiSpan(PiiKind.SSN, *match.span(), 0.95)
            elif context in {"ssn", "itin"}:
                # A mistyped number the citizen calls an SSN is still theirs to protect.
                yield PiiSpan(PiiKind.SSN, *match.span(), 0.7)
        for match in _EIN_LIKE.finditer(plain):
            digits = match.group(1) + match.group(2)
            if ein_valid(digits):
                yield PiiSpan(PiiKind.EIN, *match.span(), 0.9)

    def _addresses(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find whole street addresses, Spanish-style addresses and post office boxes."""
        for pattern in (_ADDRESS_EN, _ADDRESS_ES, _PO_BOX):
            for match in pattern.finditer(plain):
                start, end = match.span()
                while end > start and plain[end - 1] in " ,.":
                    end -= 1
                # Keep the period of a trailing abbreviation such as "St." or "TX.".
                yield PiiSpan(PiiKind.ADDRESS, start, end, 0.9)

    def _phones(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find U.S., Mexican and Spanish phone numbers in written shapes."""
        for match in _PHONE.finditer(plain):
            yield PiiSpan(PiiKind.PHONE, *match.span(), 0.9)

    def _context_numbers(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find bare numbers whose nearest context word says what they are."""
        for match in _DIGITS.finditer(plain):
            digits = match.group(0).replace("-", "")
            span = self._classify_number(digits, self._nearest_context(lowered, match.start()))
            if span is not None:
                yield PiiSpan(span[0], *match.span(), span[1])
        for match in _ALNUM_ID.finditer(plain):
            context = self._nearest_context(lowered, match.start())
            if context == "passport":
                yield PiiSpan(PiiKind.PASSPORT, *match.span(), 0.85)
            elif context == "license":
                yield PiiSpan(PiiKind.DRIVER_LICENSE, *match.span(), 0.85)

    @staticmethod
    def _classify_number(digits: str, context: str | None) -> tuple[PiiKind, float] | None:
        """Decide what a bare number is from its nearest context word and its checksum."""
        length = len(digits)
        if context in {"ssn", "itin", "tax_id"} and length == 9:
            return (PiiKind.ITIN, 0.9) if itin_valid(digits) else (PiiKind.SSN, 0.9)
        if context == "ein" and length == 9:
            return PiiKind.EIN, 0.9
        if context == "routing" and length == 9:
            return (PiiKind.ROUTING, 0.95) if aba_valid(digits) else (PiiKind.ROUTING, 0.6)
        if context == "account" and 6 <= length <= 17:
            return PiiKind.ACCOUNT, 0.85
        if context == "passport" and 6 <= length <= 10:
            return PiiKind.PASSPORT, 0.85
        if context == "license" and 6 <= length <= 14:
            return PiiKind.DRIVER_LICENSE, 0.85
        if context == "phone" and length in {10, 11}:
            return PiiKind.PHONE, 0.8
        if context == "card" and 13 <= length <= 19 and luhn_valid(digits):
            return PiiKind.CARD, 0.9
        return None

    def _birth_dates(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find dates whose nearest context word is about birth, not deadlines."""
        for match in _DATE.finditer(plain):
            if self._nearest_context(lowered, match.start(), reach=40) == "birth":
                yield PiiSpan(PiiKind.DOB, *match.span(), 0.9)

    def _names(self, plain: str, lowered: str) -> Iterator[PiiSpan]:
        """Find people's names from cues ("my name is", titles) and the name lists."""
        for match in _NAME_RUN.finditer(plain):
            span = self._name_in_run(plain, lowered, match.start(), match.group(0))
            if span is not None:
                yield span

    def _name_in_run(self, plain: str, lowered: str, start: int, run: str) -> PiiSpan | None:
        """Pick the part of a run of capitalised words that is a person's name, if any."""
        lexicon = self._lexicon
        tokens = [
            (m.group(0), start + m.start(), start + m.end()) for m in _NAME_TOKEN.finditer(run)
        ]
        words = [token for token in tokens if token[0][0].isupper()]
        if not words:
            return None
        end = tokens[-1][2]

        # Names of places and organisations often contain a person's name; skip those.
        after = plain[end:].lstrip(" ,.")
        next_word = re.match(r"[A-Za-z]+", after)
        if next_word and next_word.group(0).upper() in _PLACE_AFTER:
            return None

        # A strong cue names whoever follows it, even a name missing from the lists.
        if _STRONG_CUE.search(lowered[max(0, start - 40) : start]):
            if lexicon.is_blocked(words[0][0]):
                return None
            return PiiSpan(PiiKind.NAME, words[0][1], end, 0.9)

        # Otherwise the name must start with a known given name, after any filler words.
        # LIMITATION: a lone name or an all-capitals name without a cue is not found.
        first = next((i for i, word in enumerate(words) if lexicon.is_given(word[0])), None)
        if first is None:
            window = lowered[max(0, start - 40) : start]
            surname_cue = _SIGNOFF_CUE.search(window) or _PREPOSITION_CUE.search(window)
            if (
                surname_cue
                and len(words) >= 2
                and all(lexicon.is_surname(w[0]) for w in words[:2])
            ):
                return PiiSpan(PiiKind.NAME, words[0][1], end, 0.6)
            return None
        named = words[first:]
        before = lowered[max(0, named[0][1] - 40) : named[0][1]]
        if _PLACE_BEFORE.search(before):
            return None
        if named[-1][0].upper().rstrip(".") in _PLACE_AFTER:
            return None
        signoff = bool(_SIGNOFF_CUE.search(before))
        cued = signoff or bool(_PREPOSITION_CUE.search(before) or _STRONG_CUE.search(before))
        rest = [word for word in named[1:] if not word[0].endswith(".")]
        if any(lexicon.is_blocked(word[0]) for word in rest):
            # Names do not contain words like "From" or "Your"; title-case headings do.
            return None
        known_rest = any(lexicon.is_name_word(word[0]) for word in rest)
        if named[0][0].upper() in _PLACE_PREFIXES:
            return None
        if rest and (known_rest or cued):
            return PiiSpan(PiiKind.NAME, named[0][1], end, 0.8 if known_rest else 0.6)
        if rest and not any(lexicon.is_common_word(word[0]) for word in rest):
            # A given name before an unlisted capitalised word is most often a full name.
            return PiiSpan(PiiKind.NAME, named[0][1], end, 0.55)
        if not rest and signoff and first == 0:
            # A lone given name right after "thanks," or "soy" is a name; elsewhere too risky.
            return PiiSpan(PiiKind.NAME, named[0][1], named[0][2], 0.55)
        return None
