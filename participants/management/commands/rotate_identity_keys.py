from django.core.management.base import BaseCommand
from django.db import transaction

from participants import crypto
from participants.models import IdentityRecord

CHUNK = 500


class Command(BaseCommand):
    help = (
        "Re-encrypt every identity record under the newest key in STEGVIS_FIELD_KEYS. "
        "Put the new key first, keep the old ones after it, run this, then remove the old keys."
    )

    def handle(self, *args: object, **options: object) -> None:
        ids = list(IdentityRecord.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), CHUNK):
            with transaction.atomic():
                records = list(IdentityRecord.objects.select_for_update().filter(pk__in=ids[start : start + CHUNK]))
                for record in records:
                    record.personnummer_encrypted = crypto.reencrypt(record.personnummer_encrypted)
                    record.name_encrypted = crypto.reencrypt(record.name_encrypted)
                    if record.contact_encrypted:
                        record.contact_encrypted = crypto.reencrypt(record.contact_encrypted)
                IdentityRecord.objects.bulk_update(
                    records, ["personnummer_encrypted", "name_encrypted", "contact_encrypted"]
                )
            self.stdout.write(f"{min(start + CHUNK, len(ids))}/{len(ids)} omkrypterade")
        self.stdout.write(self.style.SUCCESS(f"Klart: {len(ids)} identitetsposter krypterade med den nyaste nyckeln."))
