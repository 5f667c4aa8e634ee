from django import template

register = template.Library()


@register.filter
def num(value: object) -> object:
    """Swedish number format for report cells: 1 903 500 and 11,75; hidden cells and text as they are."""
    if isinstance(value, bool) or value is None:
        return "–" if value is None else value
    if isinstance(value, int):
        return f"{value:,}".replace(",", "\u00a0")
    if isinstance(value, float):
        text = f"{value:,.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{int(value):,}"
        return text.replace(",", "\u00a0").replace(".", ",")
    return value
