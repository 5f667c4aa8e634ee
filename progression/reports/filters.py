"""Report filters: förbund, insatser, period (with presets), kön and age band, and whether the
figures leave the organisation (extern); validated in Swedish.

External figures are made only on the publication grid: a whole standard period (PRESETS) and the
whole förbund or a single insats. With free dates and insats lists, a chain of reports whose periods
grow a day at a time (or whose insats lists grow one at a time) pins exact counts despite the
cell-key noise: each step's difference is bounded noise around a real difference (docs/privacy.md)."""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet

from participants import access
from participants.models import Forbund, Insats

AGE_BANDS = {"16-24": (16, 24), "25-34": (25, 34), "35-44": (35, 44), "45-54": (45, 54), "55-67": (55, 67)}
KON_VALUES = ("kvinna", "man", "annat", "okant")
KON_WORDS = {"kvinna": "kvinnor", "man": "män", "annat": "annat kön", "okant": "okänt kön"}


class FilterError(ValueError):
    """Bad filter input; .errors maps each parameter to a Swedish message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()))
        self.errors = errors


@dataclass(frozen=True)
class ReportFilter:
    forbund: Forbund
    insatser: tuple[Insats, ...]
    date_from: date
    date_to: date
    kon: str = ""
    age_band: str = ""
    by_kon: bool = field(default=False)
    external: bool = False  # figures protected for spreading outside the organisation

    @property
    def insats_ids(self) -> list[int]:
        return [insats.pk for insats in self.insatser]

    @property
    def all_insatser(self) -> bool:
        """Every insats of the förbund, not only those the user reaches: a user who reaches a few
        would otherwise publish a selection of them."""
        return len(self.insatser) == Insats.objects.filter(forbund=self.forbund).count()

    def person_words(self) -> list[str]:
        """Who of the participants the selection keeps, in words: ["kvinnor", "25–34 år"]."""
        words = [KON_WORDS[self.kon]] if self.kon else []
        if self.age_band:
            words.append(f"{self.age_band.replace('-', '–')} år")
        return words

    def describe(self) -> str:
        parts = [
            self.forbund.name,
            ", ".join(i.name for i in self.insatser),
            f"{self.date_from:%Y-%m-%d}–{self.date_to:%Y-%m-%d}",
        ]
        if self.kon:
            parts.append(KON_WORDS[self.kon])
        if self.age_band:
            parts.append(f"ålder: {self.age_band.replace('-', '–')}")
        return " · ".join(parts)

    def as_params(self) -> dict[str, Any]:
        return {
            "forbund": self.forbund.code,
            "insats": [i.code for i in self.insatser],
            "from": self.date_from.isoformat(),
            "to": self.date_to.isoformat(),
            "kon": self.kon,
            "aldersgrupp": self.age_band,
            "per_kon": "1" if self.by_kon else "",
            "extern": "1" if self.external else "0",
        }


def preset_period(preset: str, year: int) -> tuple[date, date]:
    """helår, delår (jan–aug), tertial 1–3, halvår 1–2."""
    periods = {
        "helar": (date(year, 1, 1), date(year, 12, 31)),
        "delar": (date(year, 1, 1), date(year, 8, 31)),
        "tertial1": (date(year, 1, 1), date(year, 4, 30)),
        "tertial2": (date(year, 5, 1), date(year, 8, 31)),
        "tertial3": (date(year, 9, 1), date(year, 12, 31)),
        "halvar1": (date(year, 1, 1), date(year, 6, 30)),
        "halvar2": (date(year, 7, 1), date(year, 12, 31)),
    }
    if preset not in periods:
        raise FilterError({"period": f"Okänd period: {preset}"})
    return periods[preset]


PRESETS = [
    ("helar", "Helår"),
    ("delar", "Delår jan–aug"),
    ("tertial1", "Tertial 1"),
    ("tertial2", "Tertial 2"),
    ("tertial3", "Tertial 3"),
    ("halvar1", "Halvår 1"),
    ("halvar2", "Halvår 2"),
]


EXTERNAL_VALUES = {"1": True, "0": False}
GRID_PERIOD_ERROR = (
    "Tal för extern spridning tas bara fram för hela standardperioder: helår, delår jan–aug, tertial "
    "eller halvår. Välj en period i listan (eller visa exakta tal för internt bruk)."
)
GRID_INSATS_ERROR = (
    "Tal för extern spridning tas bara fram för hela förbundet eller för en insats i taget, inte för ett "
    "urval av insatser."
)


def _external(params: Any, default: bool, errors: dict[str, str]) -> bool:
    """extern=1 (protected figures) or extern=0 (exact, internal); missing or empty: the default.
    Given twice with different values (a link extended with extern=1 after the user's extern=0) is
    refused: which one was meant cannot be told."""
    given = params.getlist("extern") if hasattr(params, "getlist") else [params.get("extern")]
    if len({value for value in given if value}) > 1:
        errors["extern"] = "Ange extern bara en gång: 1 (skyddade tal) eller 0 (exakta tal för internt bruk)."
        return default
    raw = params.get("extern") or ""
    if not raw:
        return default
    if raw not in EXTERNAL_VALUES:
        errors["extern"] = (
            "extern ska vara 1 (skyddade tal för extern spridning) eller 0 (exakta tal för internt bruk), "
            f"inte '{raw}'."
        )
        return default
    return EXTERNAL_VALUES[raw]


def is_grid_period(date_from: date, date_to: date) -> bool:
    """Whether the period is one of the standard periods of its year (PRESETS)."""
    return date_from.year == date_to.year and (date_from, date_to) in {
        preset_period(code, date_from.year) for code, _label in PRESETS
    }


def grid_errors(filters: ReportFilter) -> dict[str, str]:
    """Why these filters are off the publication grid (empty: external figures may be made)."""
    errors = {}
    if not is_grid_period(filters.date_from, filters.date_to):
        errors["period"] = GRID_PERIOD_ERROR
    if len(filters.insatser) > 1 and not filters.all_insatser:
        errors["insats"] = GRID_INSATS_ERROR
    return errors


def on_publication_grid(filters: ReportFilter) -> bool:
    """Whether these filters may also give external figures: what the report page offers."""
    return not grid_errors(filters)


def _date(raw: str, name: str, errors: dict[str, str]) -> date | None:
    try:
        return date.fromisoformat(raw)
    except (TypeError, ValueError):
        errors[name] = f"Datumet måste skrivas ÅÅÅÅ-MM-DD, inte '{raw}'."
        return None


def insatser_for_reports(*, user: Any) -> QuerySet[Insats]:
    return access.insatser_for_reports(user).select_related("forbund")


def parse_filter(*, user: Any, params: Any, default_year: int, default_external: bool = False) -> ReportFilter:
    """Read ?forbund=&insats=&from=&to=&period=&ar=&kon=&aldersgrupp=&extern= within the user's
    scope; external figures only on the publication grid (see the module's docstring)."""
    errors: dict[str, str] = {}
    external = _external(params, default_external, errors)
    # One query for the whole scope (a user reaches a few dozen insatser at most): the förbund and
    # insatser below are picked from it, in the database's name order.
    allowed = list(insatser_for_reports(user=user).order_by("forbund__name", "name", "id"))
    forbunds = list({insats.forbund_id: insats.forbund for insats in allowed}.values())
    forbund_code = params.get("forbund") or ""
    forbund: Forbund | None = None
    if forbund_code:
        forbund = next((candidate for candidate in forbunds if candidate.code == forbund_code), None)
        if forbund is None:
            errors["forbund"] = f"Okänt förbund eller utanför din behörighet: {forbund_code}"
    elif forbunds:
        forbund = forbunds[0]
    else:
        errors["forbund"] = "Du har ingen behörighet att se rapporter."
    codes = [
        code
        for code in (params.getlist("insats") if hasattr(params, "getlist") else params.get("insats") or [])
        if code
    ]
    insatser: tuple[Insats, ...] = ()
    if forbund is not None:
        in_forbund = [insats for insats in allowed if insats.forbund_id == forbund.pk]
        if codes:
            insatser = tuple(insats for insats in in_forbund if insats.code in codes)
            unknown = set(codes) - {i.code for i in insatser}
            if unknown:
                errors["insats"] = f"Okänd insats eller utanför din behörighet: {', '.join(sorted(unknown))}"
        else:
            insatser = tuple(in_forbund)
    if params.get("period"):
        year_raw = params.get("ar") or str(default_year)
        if not (year_raw.isascii() and year_raw.isdigit()):  # isdigit() alone lets "²" through to int()
            errors["ar"] = "Året måste vara ett tal, t.ex. 2026."
            date_from, date_to = None, None
        elif len(year_raw) != 4 or year_raw == "0000":  # a date's year is 1–9999
            errors["ar"] = "Året måste skrivas med fyra siffror, t.ex. 2026."
            date_from, date_to = None, None
        else:
            try:
                date_from, date_to = preset_period(params["period"], int(year_raw))
            except FilterError as exc:
                errors.update(exc.errors)
                date_from, date_to = None, None
    else:
        date_from = _date(params.get("from") or f"{default_year}-01-01", "from", errors)
        date_to = _date(params.get("to") or f"{default_year}-12-31", "to", errors)
    if date_from and date_to and date_to < date_from:
        errors["to"] = "Periodens slut ligger före dess början."
    kon = params.get("kon") or ""
    if kon and kon not in KON_VALUES:
        errors["kon"] = f"Okänt kön: {kon}"
    age_band = params.get("aldersgrupp") or ""
    if age_band and age_band not in AGE_BANDS:
        errors["aldersgrupp"] = f"Okänd åldersgrupp: {age_band}"
    # A förbund or date left None always comes with its error.
    if errors or forbund is None or date_from is None or date_to is None:
        raise FilterError(errors)
    filters = ReportFilter(
        forbund=forbund,
        insatser=insatser,
        date_from=date_from,
        date_to=date_to,
        kon=kon,
        age_band=age_band,
        by_kon=params.get("per_kon") in ("1", "true", "on"),
        external=external,
    )
    if external and (off_grid := grid_errors(filters)):
        raise FilterError(off_grid)
    return filters
