"""Swedish personnummer and samordningsnummer: parsing, validation and normalisation.

Accepts 10 or 12 digits with or without "-" or "+" (the "+" marks a person aged 100 or more
in the 10-digit form). Samordningsnummer have 60 added to the day. The last digit is a Luhn
check digit over the 10-digit form. Every refusal carries a Swedish message for the user.
"""

import re
from dataclasses import dataclass
from datetime import date

SHAPE = re.compile(r"^(\d{6}|\d{8})([-+]?)(\d{4})$")
SAMORDNINGSNUMMER_DAY_OFFSET = 60


class PersonnummerError(ValueError):
    """Raised with a Swedish message saying what is wrong."""


@dataclass(frozen=True)
class Personnummer:
    normalised: str  # twelve digits, YYYYMMDDNNNC
    birth_date: date
    is_samordningsnummer: bool

    @property
    def birth_year(self) -> int:
        return self.birth_date.year

    @property
    def legal_sex(self) -> str:
        """The sex digit (the ninth of the 10-digit form): odd for man, even for kvinna."""
        return "man" if int(self.normalised[10]) % 2 else "kvinna"


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return (10 - total % 10) % 10


def _century(yymmdd: str, separator: str, today: date) -> int:
    """The century of a 10-digit number: the most recent one that is not in the future."""
    year = int(yymmdd[:2])
    century = today.year // 100 * 100
    if century + year > today.year:
        century -= 100
    if separator == "+":
        century -= 100
    return century


def parse_personnummer(raw: str, *, today: date | None = None) -> Personnummer:
    """Validate and normalise a personnummer or samordningsnummer, or raise PersonnummerError."""
    today = today or date.today()  # noqa: DTZ011 — a calendar date, not a point in time
    text = (raw or "").strip().replace(" ", "")
    if not text:
        raise PersonnummerError("Ange ett personnummer.")
    if re.search(r"[^\d+-]", text):
        raise PersonnummerError("Personnumret får bara innehålla siffror och bindestreck eller plustecken.")
    match = SHAPE.match(text)
    if not match:
        digits = re.sub(r"\D", "", text)
        if len(digits) not in (10, 12):
            raise PersonnummerError(f"Personnumret ska ha 10 eller 12 siffror, inte {len(digits)}.")
        raise PersonnummerError("Personnumret ska skrivas ÅÅMMDD-NNNN eller ÅÅÅÅMMDD-NNNN.")
    date_part, separator, last_four = match.groups()
    if len(date_part) == 8:
        year, month_day = int(date_part[:4]), date_part[4:]
        if separator == "+":
            raise PersonnummerError("Plustecken används bara i personnummer med 10 siffror.")
    else:
        year, month_day = _century(date_part, separator, today) + int(date_part[:2]), date_part[2:]
    month, day = int(month_day[:2]), int(month_day[2:])
    is_samordningsnummer = day > SAMORDNINGSNUMMER_DAY_OFFSET
    real_day = day - SAMORDNINGSNUMMER_DAY_OFFSET if is_samordningsnummer else day
    try:
        birth_date = date(year, month, real_day)
    except ValueError:
        raise PersonnummerError(f"Datumet i personnumret finns inte ({year}-{month:02d}-{real_day:02d}).") from None
    if birth_date > today:
        raise PersonnummerError("Födelsedatumet i personnumret ligger i framtiden.")
    ten_digits = f"{year % 100:02d}{month_day}{last_four}"
    if luhn_check_digit(ten_digits[:9]) != int(ten_digits[9]):
        raise PersonnummerError("Kontrollsiffran stämmer inte. Kontrollera personnumret.")
    return Personnummer(
        normalised=f"{year:04d}{month_day}{last_four}",
        birth_date=birth_date,
        is_samordningsnummer=is_samordningsnummer,
    )


def format_personnummer(normalised: str) -> str:
    """YYYYMMDD-NNNN for display."""
    return f"{normalised[:8]}-{normalised[8:]}"
