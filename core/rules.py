"""Input rules: each length, count and range limit of an operation, written once
next to its service, which checks it. REST and GraphQL only describe it: the
OpenAPI document through ``rule.validators()`` (validators that document and never
refuse) and the GraphQL SDL through ``rule.describe()``. A field name is the
domain's (snake_case, dotted into nested inputs: ``client.given_name``), the same
in both channels.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar

from django.core import validators as django_validators

from .errors import DomainError


class _DocumentedOnly:
    """Mixed into a Django validator: drf-spectacular reads its limit into the
    OpenAPI document, and calling it does nothing (the service decides)."""

    def __call__(self, value):
        return None


class _MaxLength(_DocumentedOnly, django_validators.MaxLengthValidator):
    pass


class _MinLength(_DocumentedOnly, django_validators.MinLengthValidator):
    pass


class _MaxValue(_DocumentedOnly, django_validators.MaxValueValidator):
    pass


class _MinValue(_DocumentedOnly, django_validators.MinValueValidator):
    pass


class DocumentedRegex(_DocumentedOnly, django_validators.RegexValidator):
    """A pattern the OpenAPI document shows; the model's validator enforces it."""


class DocumentedEmail(_DocumentedOnly, django_validators.EmailValidator):
    """``format: email`` in the OpenAPI document; the model's field enforces it."""


# What a text is stripped of, and what a blank one holds nothing but: Python's
# whitespace (all of it in the Basic Multilingual Plane) and the byte-order mark, which
# JavaScript's \s counts too. Spelled out as a class, so that the OpenAPI document's
# pattern for "not blank" means the same in every regular-expression dialect.
WHITESPACE = "".join(chr(c) for c in range(0x10000) if chr(c).isspace()) + "\ufeff"


def _character_class(characters: str) -> str:
    """The characters as \\uXXXX escapes, consecutive ones as ranges."""
    runs: list[list[int]] = []
    for code in sorted(map(ord, characters)):
        if runs and code == runs[-1][1] + 1:
            runs[-1][1] = code
        else:
            runs.append([code, code])
    return "".join(f"\\u{first:04x}" + (f"-\\u{last:04x}" if last > first else "")
                   for first, last in runs)


# The patterns the OpenAPI document gives a text (core.serializers.TextField): no NUL
# character (DRF refuses it, and PostgreSQL cannot store it), and for a required one
# something other than whitespace.
TEXT_PATTERN = r"^[^\u0000]*$"
NOT_BLANK_TEXT_PATTERN = (rf"^[^\u0000]*[^\u0000{_character_class(WHITESPACE)}]"
                          r"[^\u0000]*$")


def strip(text: str) -> str:
    return text.strip(WHITESPACE)


def _label(name: str) -> str:
    return name.rsplit(".", 1)[-1].replace("_", " ").capitalize()


@dataclass(frozen=True)
class Text:
    """A text of at most ``max_length`` characters once stripped; ``required``
    refuses a blank one."""

    name: str
    max_length: int
    required: bool = False
    # A pattern a text that is not empty must match (the OpenAPI document shows it), and
    # what a mismatch says.
    pattern: str | None = None
    mismatch: str = ""

    def clean(self, value: str | None) -> str:
        text = strip(value or "")
        if self.required and not text:
            raise DomainError("required", f"{_label(self.name)} is required.", field=self.name)
        if len(text) > self.max_length:
            raise DomainError(
                "too_long", f"{_label(self.name)} has at most {self.max_length:,} characters "
                f"({len(text):,} given).", field=self.name, max_length=self.max_length)
        if text and self.pattern and not re.fullmatch(self.pattern, text):
            raise DomainError("validation_error", self.mismatch, field=self.name)
        return text

    def validators(self) -> list:
        found = [_MaxLength(self.max_length)]
        if self.required:
            found.append(_MinLength(1))
        if self.pattern:
            found.append(DocumentedRegex(self.pattern))
        return found

    def describe(self) -> str:
        return (("Required; a" if self.required else "A") +
                f"t most {self.max_length:,} characters.")


@dataclass(frozen=True)
class Items:
    """A list of at most ``max_items`` entries."""

    name: str
    max_items: int
    min_items: int = 0

    def clean(self, value: list | None) -> list:
        items = list(value or [])
        if len(items) < self.min_items:
            raise DomainError("required", f"{_label(self.name)} needs at least "
                              f"{self.min_items} {'entry' if self.min_items == 1 else 'entries'}.",
                              field=self.name)
        if len(items) > self.max_items:
            raise DomainError(
                "too_many_items", f"{_label(self.name)} has at most {self.max_items} entries "
                f"({len(items)} given).", field=self.name, max_items=self.max_items)
        return items

    def validators(self) -> list:
        found = [_MaxLength(self.max_items)]
        if self.min_items:
            found.append(_MinLength(self.min_items))
        return found

    def describe(self) -> str:
        least = f"At least {self.min_items}, a" if self.min_items else "A"
        return f"{least}t most {self.max_items} entries."


@dataclass(frozen=True)
class Range:
    """A whole number from ``minimum`` to ``maximum``; ``code`` names what a number
    outside means (e.g. ``unknown_district``)."""

    name: str
    minimum: int
    maximum: int
    code: str = "out_of_range"

    def clean(self, value: int | None) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not (
                self.minimum <= value <= self.maximum):
            raise DomainError(
                self.code, f"{_label(self.name)} is {self.minimum} to {self.maximum} "
                f"({value!r} given).", field=self.name,
                minimum=self.minimum, maximum=self.maximum)
        return value

    def validators(self) -> list:
        return [_MinValue(self.minimum), _MaxValue(self.maximum)]

    def describe(self) -> str:
        return f"{self.minimum} to {self.maximum}."


@dataclass(frozen=True)
class Token:
    """An opaque token the API handed out, sent back as it came: 1 to ``max_length``
    characters of base64url. Whether a well-formed one is a token the API handed out,
    only its reader can tell."""

    name: str
    max_length: int
    PATTERN: ClassVar[str] = r"^[A-Za-z0-9_-]+$"

    def matches(self, value: str | None) -> bool:
        return bool(value) and len(value) <= self.max_length and bool(
            re.fullmatch(self.PATTERN, value))

    def validators(self) -> list:
        return [_MinLength(1), _MaxLength(self.max_length), DocumentedRegex(self.PATTERN)]


@contextmanager
def nested(prefix: str) -> Iterator[None]:
    """Name fields of a nested input from the top: a rule of ``given_name`` broken
    inside ``client`` reports ``client.given_name``."""
    try:
        yield
    except DomainError as error:
        if error.field and not error.field.startswith(f"{prefix}."):
            error.field = f"{prefix}.{error.field}"
        elif not error.field:
            error.field = prefix
        raise
