"""Serves read-aloud clips and pictograms from Stegvis itself: no page ever asks another host.

Both are named by a hash of their content or text, so a URL always means the same bytes: they are
cached for a year. Neither needs a login (a participant's link has none) and neither holds anything
about a person. An SVG pictogram is sent with a sandboxing policy, so that even opened on its own
no script in it runs; the pages only show pictograms through <img>.
"""

import re
from pathlib import Path

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.http import require_GET

from surveys.attachments import PICTOGRAM_TYPES, RECORDING_TYPES, pictogram_root
from surveys.speech import speech_clip_path

CACHED_FOR_A_YEAR = "public, max-age=31536000, immutable"
PICTOGRAM_NAME = re.compile(r"[0-9a-f]{24}\.(?:svg|png|webp)")
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _file_response(request: HttpRequest, path: Path, content_type: str) -> HttpResponseBase:
    """The file, or the byte range asked for: Safari fetches audio in ranges and refuses a server
    that cannot answer them."""
    size = path.stat().st_size
    response: HttpResponseBase
    match = RANGE.fullmatch(request.headers.get("Range", "").strip())
    if match and (match[1] or match[2]):
        if match[1]:
            first, last = int(match[1]), min(int(match[2]) if match[2] else size - 1, size - 1)
        else:  # the last N bytes
            first, last = max(size - int(match[2]), 0), size - 1
        if first > last or first >= size:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        with path.open("rb") as file:
            file.seek(first)
            response = HttpResponse(file.read(last - first + 1), status=206, content_type=content_type)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = CACHED_FOR_A_YEAR
    return response


@require_GET
def speech_clip(request: HttpRequest, language: str, name: str) -> HttpResponseBase:
    """/tal/<language>/<clip>: a generated or recorded reading (surveys.speech)."""
    path = speech_clip_path(language=language, name=name)
    if path is None:
        raise Http404("Ingen sådan uppläsning")
    return _file_response(request, path, RECORDING_TYPES[path.suffix.removeprefix(".")])


@require_GET
def pictogram(request: HttpRequest, name: str) -> HttpResponseBase:
    """/piktogram/<name>: a pictogram an instrument file attached (surveys.attachments)."""
    path = pictogram_root() / name
    if not PICTOGRAM_NAME.fullmatch(name) or not path.is_file():
        raise Http404("Inget sådant piktogram")
    extension = path.suffix.removeprefix(".")
    response = _file_response(request, path, PICTOGRAM_TYPES[extension])
    if extension == "svg":
        response["Content-Security-Policy"] = SVG_POLICY
    return response
