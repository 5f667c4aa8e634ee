import os
import secrets

from django.core.management.base import BaseCommand, CommandParser

from participants import demo as participants_demo
from progression import demo as progression_demo
from surveys import demo as surveys_demo


class Command(BaseCommand):
    help = "Load the demo organisations, users and synthetic participants (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("STEGVIS_DEMO_PASSWORD"),
            help="Password for every demo user (default: a new random one, printed).",
        )

    def handle(self, *args: object, **options: object) -> None:
        password = str(options["password"] or secrets.token_urlsafe(9))
        logins = participants_demo.seed_organisations(password=password)
        participants = participants_demo.seed_participants()
        shared = participants_demo.seed_shared_people()
        volumes = participants_demo.seed_volumes()
        instruments = surveys_demo.seed_instruments()
        self.stdout.write(
            f"Demodata klar: {participants} nya syntetiska deltagare ({shared} inskrivna även i Jonsbo), "
            f"{volumes} volymregistreringar."
        )
        for line in instruments:
            self.stdout.write(f"Instrument {line}")
        readings = progression_demo.seed_readings()
        journeys = progression_demo.seed_journeys()
        responses = progression_demo.seed_surveys()
        progression_demo.seed_progression()
        self.stdout.write(
            f"Mätningar: {readings} nya, enkätsvar: {responses} nya, {journeys} resor med uppnått delmål; "
            "stegförflyttning omräknad."
        )
        texts = progression_demo.seed_report_texts()
        if texts:
            self.stdout.write(f"Texter till rapportbilagan: {texts} insatser.")
        for label in progression_demo.seed_closed_period():
            self.stdout.write(f"{label} stängd: rapporterna frysta.")
        my_plan = progression_demo.seed_plan_link()
        if my_plan:
            self.stdout.write(f"Min plan för demodeltagaren {my_plan[0]}: öppna {my_plan[1]} (utan inloggning).")
        self.stdout.write("")
        self.stdout.write(f"Demoinloggningar (lösenord för alla: {password})")
        for login in logins:
            self.stdout.write(f"  {login.username:<20} {login.role:<14} {login.scope}")
