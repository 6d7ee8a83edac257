from django import template

register = template.Library()


@register.filter
def plus(value, other):
    """Adds two numbers that may be floats (Django's ``add`` is for integers)."""
    return round(float(value) + float(other), 1)


@register.filter
def words(name):
    """A measure's name as words: "unique_clients_served" -> "unique clients served"."""
    return str(name).replace("_", " ")
