"""What every page needs to say which language it is in: <html lang dir>."""

from django.http import HttpRequest
from django.utils import translation

from config.languages import language_for_code


def page_language(request: HttpRequest) -> dict[str, object]:
    language = language_for_code(translation.get_language())
    return {"page_language": language, "page_dir": "rtl" if language.rtl else "ltr"}
