import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.http import QueryDict

from progression.reports import rendering
from progression.reports.filters import FilterError, parse_filter
from progression.reports.registry import REPORTS, build_report


class Command(BaseCommand):
    help = "Print a report with the same data the API returns (JSON or CSV)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", choices=sorted(REPORTS))
        parser.add_argument("--forbund", required=True)
        parser.add_argument("--insats", action="append", default=[])
        parser.add_argument("--from", dest="date_from", required=True)
        parser.add_argument("--to", dest="date_to", required=True)
        parser.add_argument("--kon", default="")
        parser.add_argument("--aldersgrupp", default="")
        parser.add_argument("--per-kon", action="store_true")
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument(
            "--extern", action="store_true", help="Protected figures for external distribution (standard periods only)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # An operator at the console reads as a superuser would; nothing personal is in a report.
        operator = get_user_model()(username="manage.py", is_superuser=True, is_active=True)
        query = QueryDict(mutable=True)
        query.update(
            {
                "forbund": options["forbund"],
                "from": options["date_from"],
                "to": options["date_to"],
                "kon": options["kon"],
                "aldersgrupp": options["aldersgrupp"],
                "per_kon": "1" if options["per_kon"] else "",
                "extern": "1" if options["extern"] else "0",
            }
        )
        query.setlist("insats", list(options["insats"]))
        try:
            filters = parse_filter(user=operator, params=query, default_year=2026)
        except FilterError as exc:
            raise CommandError("; ".join(exc.errors.values())) from None
        report = build_report(str(options["name"]), filters=filters)
        if options["format"] == "csv":
            for line in rendering.csv_text(report, byte_order_mark=False):
                self.stdout.write(line, ending="")
            return
        self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2, default=str))
