"""What every page needs to say which language it is in: <html lang dir>."""

from django.http import HttpRequest

from config.languages import active_language


def page_language(request: HttpRequest) -> dict[str, object]:
    language = active_language()
    return {"page_language": language, "page_dir": "rtl" if language.rtl else "ltr"}
