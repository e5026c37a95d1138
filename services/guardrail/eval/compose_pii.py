"""Compose the labelled PII sets from the project's own message templates and value pools.

Run from this folder: `python compose_pii.py` rewrites pii_dev.jsonl and pii_test.jsonl.
Slots like {SSN} are filled (twice per template) with synthetic, format-valid values; ((...)) marks a look-alike
that must not be redacted. The two splits share no template and no name or street.
"""

# Each prompt stays on one line so the set reads as a list of messages.
# ruff: noqa: E501

from __future__ import annotations

import json
import random
import re
from pathlib import Path

DEV_EN = [
    "Hi, my name is {NAME} and I never got my refund. My SSN is {SSN} and I filed on ((March 2, 2024)).",
    "I moved to {ADDRESS}. Can you update my address for the ((2023)) return? You can call me at {PHONE}.",
    "Please send the notice to {EMAIL}. My ITIN is {ITIN}.",
    "Our bakery's EIN is {EIN} and we need a seller's permit. Contact {NAME} at {PHONE}.",
    "I want direct deposit. Routing number {ROUTING}, account number {ACCOUNT}.",
    "I paid the ((\u0024312.50)) penalty with my card {CARD} but it still shows a balance.",
    "My daughter {NAME} was born on {DOB}; can I claim her as a dependent on ((Form 1040))?",
    "For ID I have passport number {PASSPORT} and my driver's license is {DL}.",
    "This is {NAME}. I live at {ADDRESS} and my phone is {PHONE}.",
    "My husband {NAME} lost his job. His social security number is {SSN}, mine is {SSN}.",
    "Date of birth: {DOB}. SSN: {SSN}. Email: {EMAIL}.",
    "Can you tell me why permit ((SP-2024-00871)) was denied? The site is at {ADDRESS}.",
    "I got a letter for case ((CR-55120)) asking for ((\u00241,850)) by ((June 30, 2025)). My name is {NAME}, SSN {SSN}.",
    "Thanks for the help. Regards, {NAME}",
    "Is the ((Form 941)) due ((April 30))? My accountant {NAME} says we are late. Our EIN: {EIN}.",
    "Please update the bank account for my refund: routing {ROUTING} and checking account {ACCOUNT}.",
    "I was born {DOB} and turned 65 this year; do I still need to file?",
    "My landlord {NAME} at {ADDRESS} never gave me a rent receipt.",
    "The charge on card number {CARD} was made on ((01/15/2025)) for ((\u002489.00)).",
    "You can reach me at {EMAIL} or {PHONE} after 5 pm.",
    "I am filing for my mother, {NAME}, born {DOB}. Her SSN is {SSN}.",
    "The payment plan confirmation went to {EMAIL}, reference ((PP-889-2041)).",
    "My passport {PASSPORT} expired. Can I still use it as ID for the tax office?",
    "Driver license number {DL}, issued in Texas. I need it for the vehicle sales tax form.",
    "Mail the refund check to {ADDRESS} please.",
    "My ITIN {ITIN} expired in ((2022)). How do I renew it with ((Form W-7))?",
    "We run a food truck, EIN {EIN}, and sold ((\u002412,400)) last quarter in ((Travis County)).",
    "Someone used my identity. My name is {NAME}, SSN {SSN}, phone {PHONE}.",
    "Please call my son {NAME} at {PHONE}, he handles my taxes.",
    "I pay by card ending... actually here is the full number {CARD}, expiration ((09/27)).",
    "Old address: {ADDRESS}. New address: {ADDRESS}.",
    "Dear sir, I am {NAME} and my date of birth is {DOB}.",
    "I need the ((1099-NEC)) sent to {EMAIL}; my tax id is {SSN}.",
    "The stormwater permit for {ADDRESS} lists me, {NAME}, as the operator.",
    "Can I set up autopay from account {ACCOUNT} (routing {ROUTING})?",
    "My wife {NAME} and I file jointly. Her ITIN is {ITIN}.",
    "Hello, I'm {NAME}, owner of a salon on ((Lincoln Avenue)). What permits do I need?",
    "Send the refund to my savings account {ACCOUNT}.",
    "Text me at {PHONE} when the permit for {ADDRESS} is approved.",
    "My DOB is {DOB} and I'm applying for the senior exemption.",
    "Passport no. {PASSPORT}; license {DL}; SSN {SSN}.",
    "Please contact my preparer {NAME} ({EMAIL}) about the ((2021)) amendment.",
    "I live at {ADDRESS} and I got a ((\u0024250)) fine for a dust permit.",
    "Sincerely, {NAME}, {PHONE}",
    "I entered the wrong routing number, the right one is {ROUTING}.",
]
DEV_ES = [
    "Hola, me llamo {NAME} y no he recibido mi reembolso. Mi número de seguro social es {SSN}.",
    "Vivo en {ADDRESS}. ¿Pueden enviarme el formulario ((1040-ES))? Mi teléfono es {PHONE}.",
    "Mi ITIN es {ITIN} y nací el {DOB}.",
    "Por favor escriban a {EMAIL}. Mi esposo {NAME} también necesita ayuda.",
    "Quiero depósito directo: número de ruta {ROUTING}, número de cuenta {ACCOUNT}.",
    "Pagué con la tarjeta {CARD} la multa de ((\u0024150)) pero sigue apareciendo.",
    "Mi hija {NAME} nació el {DOB}. ¿Puedo reclamarla como dependiente en ((2024))?",
    "Mi pasaporte es {PASSPORT} y mi licencia de conducir es {DL}.",
    "Soy {NAME}, dueño de un taller en {ADDRESS}. El EIN del negocio es {EIN}.",
    "Llámenme al {PHONE} o escriban a {EMAIL}, gracias.",
    "El permiso ((PV-2023-1142)) de mi negocio vence el ((30 de junio de 2025)). Me llamo {NAME}.",
    "Mi madre {NAME} vive en {ADDRESS} y no sabe usar la computadora.",
    "Fecha de nacimiento: {DOB}. Seguro social: {SSN}.",
    "Saludos cordiales, {NAME}",
    "Cambié de domicilio a {ADDRESS}, mi teléfono nuevo es {PHONE}.",
]
TEST_EN = [
    "Good morning. I'm {NAME}, SSN {SSN}. The refund for ((tax year 2023)) never arrived.",
    "My new mailing address is {ADDRESS}. Phone: {PHONE}.",
    "Can someone email me at {EMAIL}? My ITIN number is {ITIN}.",
    "I registered an LLC and the EIN is {EIN}. Who do I talk to about the ((\u002450)) filing fee?",
    "Deposit my refund to routing {ROUTING}, account {ACCOUNT}, please.",
    "I was charged twice on my credit card {CARD} for the ((\u002475.00)) permit fee.",
    "My son {NAME} (DOB {DOB}) started college; can I still claim him?",
    "I can show my passport {PASSPORT} or my driver's license {DL} at the office.",
    "Hi, {NAME} here. I'm at {ADDRESS}, cell {PHONE}.",
    "My ex-wife {NAME} claimed our kid. My social security number is {SSN}.",
    "Name: {NAME}. Birth date: {DOB}. Email: {EMAIL}.",
    "The inspection for permit ((BP-24-10332)) at {ADDRESS} was cancelled.",
    "Notice ((CP2000)) says I owe ((\u00243,212)) by ((May 15, 2025)). I am {NAME}, SSN {SSN}.",
    "Thank you so much, {NAME}",
    "Our quarterly ((Form 720)) is due ((July 31)). My bookkeeper {NAME} has the numbers. EIN {EIN}.",
    "Change my direct deposit to routing number {ROUTING} and savings account {ACCOUNT}.",
    "I was born on {DOB}. Am I old enough for the ((elderly credit))?",
    "My tenant {NAME} at {ADDRESS} says the property tax is included in rent.",
    "A payment of ((\u0024640)) on ((02/03/2025)) went on card {CARD}.",
    "Best way to reach me: {PHONE} or {EMAIL}.",
    "I help my father, {NAME}, born on {DOB}, whose SSN is {SSN}.",
    "The receipt for confirmation ((CONF-77310)) was sent to {EMAIL}.",
    "Is a passport like mine, {PASSPORT}, enough to register a business?",
    "Here is my DL number {DL} for the title transfer tax.",
    "Please send forms to {ADDRESS}.",
    "My ITIN is {ITIN}; it was issued in ((2019)) with ((Form W-7)).",
    "We own a landscaping company, EIN {EIN}, with ((14)) employees in ((Harris County)).",
    "A scammer filed under my name. I am {NAME}, SSN {SSN}, call {PHONE}.",
    "My neighbor {NAME} can help me, her number is {PHONE}.",
    "Card: {CARD}. Please charge the ((\u0024120)) renewal.",
    "We moved from {ADDRESS} to {ADDRESS} last month.",
    "To whom it may concern, my name is {NAME} and I was born {DOB}.",
    "Mail my ((W-2)) copy to {EMAIL}; tax id {SSN}.",
    "The air permit for {ADDRESS} names {NAME} as the responsible official.",
    "Take the payment from checking account {ACCOUNT} with routing {ROUTING}.",
    "My spouse {NAME} has ITIN {ITIN}.",
    "Hey there, this is {NAME} from a taco stand near ((Washington Park)). Do I need a permit?",
    "Put the refund in account number {ACCOUNT}.",
    "Call {PHONE} once the inspection at {ADDRESS} is scheduled.",
    "DOB {DOB}, applying for the homestead exemption.",
    "Passport number {PASSPORT}, license number {DL}, SSN {SSN}.",
    "My tax preparer is {NAME}, {EMAIL}, please talk to her.",
    "Our shop at {ADDRESS} got a ((\u0024500)) citation.",
    "Kind regards, {NAME}, {PHONE}",
    "Correction: the routing number is {ROUTING}.",
]
TEST_ES = [
    "Buenas tardes, soy {NAME} y mi seguro social es {SSN}. ¿Dónde está mi reembolso?",
    "Mi nueva dirección es {ADDRESS}. Teléfono: {PHONE}.",
    "Nací el {DOB} y mi ITIN es {ITIN}.",
    "Escríbanme a {EMAIL}, por favor. Mi esposa {NAME} tiene la misma pregunta.",
    "Para el reembolso: ruta {ROUTING}, cuenta de cheques {ACCOUNT}.",
    "Me cobraron dos veces en la tarjeta {CARD} por el permiso de ((\u002495)).",
    "Mi hijo {NAME} nació el {DOB}. ¿Cuenta como dependiente para ((2025))?",
    "Tengo pasaporte {PASSPORT} y licencia de manejo {DL}.",
    "Me llamo {NAME} y tengo una tienda en {ADDRESS}; EIN {EIN}.",
    "Mi celular es {PHONE} y mi correo {EMAIL}.",
    "El caso ((EXP-2024-0093)) tiene fecha límite el ((15 de abril de 2025)). Soy {NAME}.",
    "Mi padre {NAME} vive en {ADDRESS} y necesita ayuda con sus impuestos.",
    "Fecha de nacimiento {DOB}, número de seguro social {SSN}.",
    "Muchas gracias, {NAME}",
    "Me mudé a {ADDRESS}; llámenme al {PHONE}.",
]

LOOKALIKE_DEV = [
    "The ((Form 1040-X)) for ((tax year 2022)) must be filed within ((3 years)) of ((April 18, 2023)).",
    "Sales of ((\u0024500,000)) or more in the past ((12 months)) require a permit under ((Section 151.107)).",
    "Permit ((SP-2024-00871)) expires on ((December 31, 2025)); renewals cost ((\u002425)).",
    "Case ((2024-CV-01177)) was closed on ((10/02/2024)) and the hearing is ((March 3, 2025)).",
    "The office on ((Martin Luther King Jr. Boulevard)) near ((George Washington Bridge)) opens at ((8:30)).",
    "Visit the ((Lincoln County)) clerk or the ((San Antonio)) field office before ((June 1)).",
    "Schedule ((C)) line ((31)) shows ((\u002418,240)) of profit for ((2023)).",
    "Use ((Form W-4)) and ((Publication 505)); the deadline is ((January 31, 2025)).",
    "The ((Jefferson Davis Highway)) project needs an NPDES permit ((TXR150000)).",
    "Interest is ((0.5%)) per month, up to ((25%)) of the unpaid ((\u00242,300)).",
    "El formulario ((1040-ES)) vence el ((15 de enero de 2025)) y la multa es de ((\u0024100)).",
    "El permiso ((PV-2023-1142)) cubre el local en ((Avenida Benito Juárez)) desde ((2021)).",
    "La oficina de ((Fort Worth)) atiende de ((8)) a ((5)); el expediente ((EXP-9921)) sigue abierto.",
    "Publication ((107)) says seller's permits are free; the ((\u002450)) fee applies to ((temporary permits)).",
    "File by ((October 15, 2025)) if you got the ((6-month)) extension with ((Form 4868)).",
    "Refunds over ((\u00241,000,000)) are reviewed; ((docket 448120)) tracks yours.",
]
LOOKALIKE_TEST = [
    "Amended returns on ((Form 1040-X)) for ((2021)) were due ((April 15, 2025)).",
    "Businesses with ((\u0024250,000)) in sales need ((Form 720)) every ((quarter)).",
    "Permit ((BP-24-10332)) was issued ((08/14/2024)) and is valid for ((180 days)).",
    "Docket ((23-ADM-0412)) will be heard on ((November 4, 2025)) at ((10 a.m.)).",
    "Our ((Sam Houston)) office and the ((Jackson County)) annex close at ((4:30)).",
    "Drive to ((Santa Clara)) or ((Port Arthur)) to drop off forms by ((May 1)).",
    "Line ((8b)) of ((Form 1040)) reports ((\u002462,500)) of wages for ((2024)).",
    "See ((Publication 17)) and ((Form 1099-K)); the threshold is ((\u00245,000)) for ((2024)).",
    "The ((Robert E. Lee Road)) site needs stormwater permit ((ARR150000)).",
    "A late penalty of ((5%)) per month applies, capped at ((25%)) of ((\u00249,100)).",
    "La declaración de ((2024)) vence el ((15 de abril de 2025)); el recargo es ((5%)).",
    "El permiso ((PA-2025-0077)) para el local en ((Calle Miguel Hidalgo)) se renueva cada ((año)).",
    "La oficina de ((San Juan)) abre a las ((9)); el caso ((CAS-55120)) sigue en trámite.",
    "Form ((SS-4)) gets you an EIN; ((Form 8821)) authorizes a third party since ((2019)).",
    "Extensions to ((October 15)) need ((Form 4868)) filed by ((April 15)).",
    "Complaints over ((\u002410,000)) go to ((docket 7781)).",
]

DEV_NAMES = [
    "Maria Gonzalez",
    "James Whitaker",
    "Linda Okafor",
    "Robert Chen",
    "Patricia Morales",
    "Michael O'Brien",
    "Jennifer Nguyen",
    "David Kowalski",
    "Susan Patel",
    "Carlos Mendoza",
    "Karen Johansson",
    "Daniel Rivera",
    "Nancy Fitzgerald",
    "Thomas Abernathy",
    "Lisa Romero",
    "Kevin Tran",
    "Angela Castillo",
    "Brian McAllister",
    "Rosa Delgado",
    "Steven Park",
    "Emily Sanchez",
    "Joseph Harrington",
    "Sandra Vasquez",
    "Anthony Russo",
    "Michelle Dubois",
]
DEV_NAMES_ES = [
    "José Luis Hernández",
    "María del Carmen Ortiz",
    "Juan Pablo Ramírez",
    "Ana Sofía Jiménez",
    "Guadalupe Torres",
    "Francisco Javier Ruiz",
    "Lucía Fernández",
    "Miguel Ángel Navarro",
    "Verónica Salazar",
    "Alejandro Domínguez",
    "Carmen Aguilar",
    "Rafael Gutiérrez",
]
TEST_NAMES = [
    "Elizabeth Warrick",
    "William Osei",
    "Barbara Lindqvist",
    "Richard Yamamoto",
    "Jessica Flores",
    "Christopher Doyle",
    "Sarah Mahmoud",
    "Matthew Brennan",
    "Laura Estrada",
    "Andrew Kaminski",
    "Rebecca Thornton",
    "Jason Alvarez",
    "Stephanie Novak",
    "Eric Whitfield",
    "Amanda Cruz",
    "Gregory Stein",
    "Melissa Ibarra",
    "Ryan Gallagher",
    "Diana Pham",
    "Justin Moreau",
    "Victoria Haines",
    "Samuel Acosta",
    "Heather Lindgren",
    "Raymond Dorsey",
    "Priya Raman",
]
TEST_NAMES_ES = [
    "Jorge Alberto Medina",
    "Rosa María Cabrera",
    "Luis Enrique Vargas",
    "Ana Lucía Paredes",
    "Fernando Ochoa",
    "Isabel Contreras",
    "Ricardo Espinoza",
    "Teresa Villanueva",
    "Héctor Manuel Soto",
    "Gabriela Robles",
    "Óscar Fuentes",
    "Adriana Maldonado",
]
DEV_STREETS = [
    ("Oak", "Street"),
    ("Maple", "Ave"),
    ("Riverside", "Drive"),
    ("Cedar Hill", "Road"),
    ("Pecan", "Ln"),
    ("Old Mill", "Rd"),
    ("5th", "St"),
    ("Sunset", "Blvd"),
    ("Magnolia", "Court"),
    ("Bluebonnet", "Way"),
    ("Lakeview", "Terrace"),
    ("Elm", "St."),
]
TEST_STREETS = [
    ("Walnut", "Street"),
    ("Willow Creek", "Dr"),
    ("Hickory", "Lane"),
    ("2nd", "Ave"),
    ("Prairie View", "Rd"),
    ("Mesquite", "Trail"),
    ("Harbor", "Blvd."),
    ("Aspen", "Ct"),
    ("Juniper", "Way"),
    ("Granite", "Pkwy"),
    ("Sycamore", "Place"),
    ("Birch", "Road"),
]
DEV_CITIES = [
    ("Austin", "TX", "787"),
    ("Dallas", "TX", "752"),
    ("Phoenix", "AZ", "850"),
    ("Albuquerque", "NM", "871"),
    ("Houston", "TX", "770"),
]
TEST_CITIES = [
    ("El Paso", "TX", "799"),
    ("Tucson", "AZ", "857"),
    ("Sacramento", "CA", "958"),
    ("Las Cruces", "NM", "880"),
    ("San Antonio", "TX", "782"),
]
DEV_CALLES = ["Calle Luna", "Calle San Francisco", "Avenida Ponce de León", "Calle Sol"]
TEST_CALLES = ["Calle Loíza", "Avenida Juan Ponce", "Calle Cristo", "Camino Real"]


def aba(rng: random.Random) -> str:
    """Return a routing number with a valid prefix and check digit."""
    prefix = rng.choice([f"{n:02d}" for n in [*range(1, 13), *range(21, 33), *range(61, 73)]])
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(6))
    weights = (3, 7, 1, 3, 7, 1, 3, 7)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + str((10 - total % 10) % 10)


def luhn_complete(prefix: str, length: int, rng: random.Random) -> str:
    """Return a card number with the given prefix and a valid Luhn check digit."""
    body = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    for check in "0123456789":
        candidate = body + check
        total = 0
        for position, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if position % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def values(kind: str, rng: random.Random, split: str, spanish: bool) -> str:
    """Return one synthetic value of a kind, in one of its usual written shapes."""
    if kind == "SSN":
        area = rng.choice([*range(1, 666), *range(667, 900)])
        digits = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        shape = rng.random()
        if shape < 0.7:
            return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
        return f"{digits[:3]} {digits[3:5]} {digits[5:]}" if shape < 0.85 else digits
    if kind == "ITIN":
        middle = rng.choice([*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100)])
        return f"9{rng.randint(0, 99):02d}-{middle}-{rng.randint(0, 9999):04d}"
    if kind == "EIN":
        prefix = rng.choice([12, 20, 27, 33, 45, 46, 47, 52, 74, 81, 84, 91])
        return f"{prefix}-{rng.randint(1000000, 9999999)}"
    if kind == "PHONE":
        area, exchange, line = rng.randint(201, 989), rng.randint(200, 999), rng.randint(0, 9999)
        if spanish and rng.random() < 0.25:
            return f"+52 55 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
        return rng.choice(
            [
                f"({area}) {exchange}-{line:04d}",
                f"{area}-{exchange}-{line:04d}",
                f"{area}.{exchange}.{line:04d}",
                f"+1 {area} {exchange} {line:04d}",
                f"1-{area}-{exchange}-{line:04d}",
            ]
        )
    if kind == "EMAIL":
        user = rng.choice(
            [
                "mgonz",
                "j.whit",
                "rosa.d",
                "taxes.family",
                "kp2025",
                "luz_m",
                "carlos.r88",
                "owner",
                "ana.s",
                "bnguyen",
            ]
        )
        return f"{user}{rng.randint(1, 99)}@{rng.choice(['example.com', 'mail.example.org', 'correo.example.net'])}"
    if kind == "CARD":
        kind_roll = rng.random()
        number = (
            luhn_complete("4", 16, rng)
            if kind_roll < 0.5
            else luhn_complete(rng.choice(["51", "53", "55"]), 16, rng)
            if kind_roll < 0.8
            else luhn_complete(rng.choice(["34", "37"]), 15, rng)
        )
        separator = rng.choice([" ", "-", ""])
        if len(number) == 15:
            return separator.join([number[:4], number[4:10], number[10:]])
        return separator.join(number[i : i + 4] for i in range(0, 16, 4))
    if kind == "ROUTING":
        return aba(rng)
    if kind == "ACCOUNT":
        return "".join(str(rng.randint(0, 9)) for _ in range(rng.randint(8, 12)))
    if kind == "PASSPORT":
        digits = "".join(str(rng.randint(0, 9)) for _ in range(8))
        return rng.choice([str(rng.randint(1, 9)) + digits, rng.choice("ACEGXN") + digits])
    if kind == "DL":
        digits = "".join(str(rng.randint(0, 9)) for _ in range(12))
        return rng.choice(
            [
                f"{rng.choice('ABDFMS')}{digits[:7]}",
                digits[:8],
                f"{rng.choice('SWK')}{digits[:3]}-{digits[3:7]}-{digits[7:11]}",
            ]
        )
    if kind == "DOB":
        year, month, day = rng.randint(1940, 2015), rng.randint(1, 12), rng.randint(1, 28)
        months_en = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ]
        months_es = [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ]
        if spanish:
            return rng.choice(
                [f"{day} de {months_es[month - 1]} de {year}", f"{day:02d}/{month:02d}/{year}"]
            )
        return rng.choice(
            [
                f"{month:02d}/{day:02d}/{year}",
                f"{months_en[month - 1]} {day}, {year}",
                f"{year}-{month:02d}-{day:02d}",
                f"{month}/{day}/{year}",
            ]
        )
    if kind == "ADDRESS":
        streets = DEV_STREETS if split == "dev" else TEST_STREETS
        cities = DEV_CITIES if split == "dev" else TEST_CITIES
        city, state, zip3 = rng.choice(cities)
        if spanish and rng.random() < 0.5:
            calle = rng.choice(DEV_CALLES if split == "dev" else TEST_CALLES)
            return f"{calle} {rng.randint(1, 999)}, San Juan, PR 009{rng.randint(10, 99)}"
        name, suffix = rng.choice(streets)
        unit = rng.choice(
            [
                "",
                "",
                f", Apt {rng.randint(1, 40)}{rng.choice('ABC')}",
                f" Unit {rng.randint(1, 300)}",
                f", Suite {rng.randint(100, 900)}",
            ]
        )
        tail = rng.choice(
            [
                f", {city}, {state} {zip3}{rng.randint(10, 99)}",
                f", {city}, {state}",
                f", {city} {state} {zip3}{rng.randint(10, 99)}",
                "",
            ]
        )
        return f"{rng.randint(10, 9999)} {name} {suffix}{unit}{tail}"
    raise ValueError(f"unknown slot {kind!r}")


def compose(templates: list[str], split: str, spanish: bool, rng: random.Random) -> list[dict]:
    """Fill every template once and record gold spans and look-alike spans."""
    names = (
        (DEV_NAMES_ES if spanish else DEV_NAMES)
        if split == "dev"
        else (TEST_NAMES_ES if spanish else TEST_NAMES)
    )
    records = []
    for number, template in enumerate(templates):
        text, spans, lookalikes = "", [], []
        for piece in re.split(r"(\{[A-Z]+\}|\(\(.+?\)\))", template):
            if piece.startswith("{"):
                kind = piece[1:-1]
                value = rng.choice(names) if kind == "NAME" else values(kind, rng, split, spanish)
                spans.append(
                    {
                        "start": len(text),
                        "end": len(text) + len(value),
                        "kind": "DRIVER_LICENSE" if kind == "DL" else kind,
                    }
                )
                text += value
            elif piece.startswith("(("):
                value = piece[2:-2]
                lookalikes.append({"start": len(text), "end": len(text) + len(value)})
                text += value
            else:
                text += piece
        records.append(
            {
                "id": f"{split}-{'es' if spanish else 'en'}-{number:03d}",
                "lang": "es" if spanish else "en",
                "text": text,
                "spans": spans,
                "lookalikes": lookalikes,
            }
        )
    return records


def main() -> None:
    """Write both splits next to this script."""
    here = Path(__file__).parent
    for split, english, spanish, lookalike, seed in (
        ("dev", DEV_EN, DEV_ES, LOOKALIKE_DEV, 11),
        ("test", TEST_EN, TEST_ES, LOOKALIKE_TEST, 29),
    ):
        rng = random.Random(seed)
        # Each template is filled twice, with different values, to reach a useful size.
        records = []
        for round_number in range(2):
            for record in compose(english, split, False, rng) + compose(spanish, split, True, rng):
                record["id"] += f"-{round_number}"
                records.append(record)
        for number, sentence in enumerate(lookalike):
            spanish_text = any(word in sentence for word in ("El ", "La ", " de "))
            record = compose([sentence], split, spanish_text, rng)[0]
            record["id"] = f"{split}-lookalike-{number:03d}"
            records.append(record)
        with (here / f"pii_{split}.jsonl").open("w", encoding="utf-8") as out:
            for record in records:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
