"""A small English/Spanish language guess for choosing messages and patterns."""

from __future__ import annotations

import re

from steward_guardrail.normalization import strip_accents

_WORD = re.compile(r"[a-záéíóúñü]+")
_SPANISH = frozenset(
    "el la los las de del que y en un una por para con no es mi su se lo al como mas pero "
    "sus le ya o este esta porque muy sin sobre tambien me hasta hay donde quien desde todo "
    "nos durante uno les ni contra otros ese eso ante ellos e esto antes algunos unos yo otro "
    "otras otra tanto esa estos mucho quienes nada muchos cual poco ella estar estas algunas "
    "algo nosotros necesito quiero puedo tengo cuando como cuanto cual usted hola gracias "
    "impuestos permiso declaracion reembolso numero nombre direccion soy llamo".split()
)
_ENGLISH = frozenset(
    "the of and to in is you that it he was for on are as with his they at be this have from "
    "or one had by but not what all were we when your can said there use an each which she "
    "do how their if will up about out many then them these so some her would my me i am need "
    "want file tax permit refund where who is does please thanks hello".split()
)


def detect_language(text: str) -> str:
    """Return "es" when a text reads as Spanish, else "en"."""
    words = _WORD.findall(text.lower())
    if not words:
        return "en"
    plain = [strip_accents(word) for word in words]
    spanish = sum(word in _SPANISH for word in plain)
    english = sum(word in _ENGLISH for word in plain)

    # Characters only Spanish uses tip a close call.
    if re.search(r"[ñ¿¡]|ción\b", text.lower()):
        spanish += 2
    return "es" if spanish > english else "en"
