"""Shared REST field types: they parse, and leave each rule to the service."""

from rest_framework import serializers
from rest_framework.fields import empty


class RequiredTextField(serializers.CharField):
    """A required text (``minLength: 1`` in the OpenAPI document) that passes a blank
    value on, so that the service answers it (``required``) as it does in GraphQL."""

    def run_validation(self, data=empty):
        if isinstance(data, str) and not data.strip():
            return ""
        return super().run_validation(data)


class DomainChoiceField(serializers.ChoiceField):
    """Documents its choices (an enum in the OpenAPI document) and passes any text
    on: the service refuses a value outside them with its own code and field, as it
    does for GraphQL."""

    def to_internal_value(self, data):
        if data == "" and self.allow_blank:
            return ""
        if not isinstance(data, str | int):
            self.fail("invalid_choice", input=data)
        return str(data)
