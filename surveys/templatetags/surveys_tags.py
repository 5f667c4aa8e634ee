from typing import Any

from django import template

from config.languages import active_language
from surveys.speech import speech_clip_url

register = template.Library()


@register.filter
def value_range(first: int, last: int) -> range:
    """{% for v in stage.first|value_range:stage.last %} gives first..last inclusive."""
    return range(int(first), int(last) + 1)


@register.filter
def get_item(mapping: dict[str, Any] | None, key: str) -> Any:
    return (mapping or {}).get(key)


@register.filter
def speech_audio(text: str) -> str:
    """The URL of a recorded or generated reading of the text in the page's language, or "".
    Looked up in a per-process listing of the clip folders, never in the database (surveys.speech)."""
    return speech_clip_url(language=active_language().key, text=str(text))
