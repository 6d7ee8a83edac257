"""Filter and field types every app's FilterSets share (REST and GraphQL alike).

A value the OpenAPI document's type refuses is a 400, never "no filter": a whole
number, an instant or a UUID sent empty (``?updated_after=``) or a boolean that is
neither true nor false (``?active=null``) would otherwise list everything in silence.
An empty boolean means "either", as HTML forms send it; the document says so
(``allowEmptyValue``, config.openapi)."""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class RefusesEmptyMixin:
    """A typed parameter sent empty is refused: leave it out to not filter by it."""

    default_error_messages = {"empty": "Give a value, or leave the parameter out."}

    def clean(self, value):
        if value == "":
            raise forms.ValidationError(self.error_messages["empty"], code="invalid")
        return super().clean(value)


class WholeNumberField(RefusesEmptyMixin, forms.IntegerField):
    pass


class IntegerFilter(django_filters.NumberFilter):
    """A whole-number filter (NumberFilter takes decimals)."""

    field_class = WholeNumberField


class UTCIsoDateTimeField(RefusesEmptyMixin, IsoDateTimeField):
    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:00-05:00
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class InstantFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC. Python takes UTC offsets up to 23:59 but
    PostgreSQL refuses those over 15:59 (a 500); in UTC any offset is fine."""

    field_class = UTCIsoDateTimeField


class UUIDField(RefusesEmptyMixin, forms.UUIDField):
    pass


class UUIDFilter(django_filters.UUIDFilter):
    field_class = UUIDField


class TrueOrFalseField(forms.NullBooleanField):
    """``true`` or ``false`` (GraphQL passes a bool); empty or absent is either."""

    widget = forms.TextInput
    default_error_messages = {"invalid": "Give true or false, or leave the parameter out."}

    def to_python(self, value):
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = TrueOrFalseField
