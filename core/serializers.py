"""Shared REST field types: they parse, and leave each rule to the service."""

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import empty

from .rules import NOT_BLANK_TEXT_PATTERN, TEXT_PATTERN, DocumentedRegex, strip


class TextField(serializers.CharField):
    """A text of the request body or query. Only a string is one: DRF's CharField also
    takes a number (``{"phone": 0}`` became ``"0"``), which the OpenAPI document, saying
    ``type: string``, does not allow. Every text an API input takes is one of these;
    the document shows its pattern (a validator of the field's own, given first, wins)."""

    pattern = TEXT_PATTERN

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        pattern = self.pattern
        if pattern == TEXT_PATTERN and not self.allow_blank:
            # DRF trims a text and refuses it blank: say so (schemathesis sent "\v").
            pattern = NOT_BLANK_TEXT_PATTERN
        self.validators.append(DocumentedRegex(pattern))

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class RequiredTextField(TextField):
    """A required text (``minLength: 1`` in the OpenAPI document) that passes a blank
    value on, so that the service answers it (``required``) as it does in GraphQL."""

    pattern = NOT_BLANK_TEXT_PATTERN

    def run_validation(self, data=empty):
        if isinstance(data, str) and not strip(data):
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


class QuerySerializer(serializers.Serializer):
    """Parses a query string. A parameter sent empty (``?page_size=``) is a value, which
    its type may refuse (the OpenAPI document's type does); DRF would read it as an
    HTML form's empty field, i.e. as left out. One value a parameter."""

    def __init__(self, instance=None, data=empty, **kwargs):
        if isinstance(data, QueryDict):
            data = data.dict()
        super().__init__(instance, data, **kwargs)
