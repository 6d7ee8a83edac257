"""Filter and field types every app's FilterSets share (REST and GraphQL alike)."""

from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField


class IntegerFilter(django_filters.NumberFilter):
    """A whole-number filter (NumberFilter takes decimals)."""

    field_class = forms.IntegerField


class UTCIsoDateTimeField(IsoDateTimeField):
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
