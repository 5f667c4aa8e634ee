"""Encryption for the identity vault and the keyed index used to find a person again.

The keys come from settings (STEGVIS_FIELD_KEYS, STEGVIS_PNR_PEPPER), never SECRET_KEY.
"""

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in settings.FIELD_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    """Encrypt with the newest key."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Decrypt with whichever configured key encrypted it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise InvalidToken("Identitetsuppgiften kan inte dekrypteras med de konfigurerade nycklarna") from exc


def encrypt_bytes(plaintext: bytes) -> bytes:
    """Encrypt a file's content with the newest key (uploads waiting to be imported)."""
    return _fernet().encrypt(plaintext)


def decrypt_bytes(token: bytes) -> bytes:
    return _fernet().decrypt(token)


def reencrypt(token: str) -> str:
    """Re-encrypt under the newest key (key rotation)."""
    return _fernet().rotate(token.encode()).decode()


def pnr_index(normalised_personnummer: str) -> str:
    """HMAC-SHA256 of the normalised personnummer: finds a person without decrypting anything."""
    return hmac.new(settings.PNR_PEPPER.encode(), normalised_personnummer.encode(), hashlib.sha256).hexdigest()
