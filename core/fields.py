"""Encrypted model fields for protected identifiers (A-Number, date of birth).

django-fernet-encrypted-fields does the work (Fernet, MultiFernet rotation); its
keys are derived from SECRET_KEY, so these subclasses take theirs from
FIELD_ENCRYPTION_KEYS instead: a list of Fernet keys, the first one current.
Rotate by putting a new key first and running `manage.py rotate_field_keys`."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import cached_property
from encrypted_fields import fields


class FieldKeysMixin:
    @cached_property
    def keys(self) -> list[bytes]:
        return [key.encode() if isinstance(key, str) else key
                for key in settings.FIELD_ENCRYPTION_KEYS]

    @cached_property
    def f(self) -> MultiFernet:
        return MultiFernet([Fernet(key) for key in self.keys])

    def to_python(self, value):
        # The library passes undecryptable values through as they are; a value we
        # encrypted but cannot decrypt means the key is missing: say so, loudly.
        if isinstance(value, str) and value.startswith("gAAAAA") and not hasattr(
                self, "_already_decrypted"):
            try:
                self.f.decrypt(value.encode())
            except InvalidToken:
                raise ImproperlyConfigured(
                    f"Cannot decrypt {self.model.__name__}.{self.name}: its key is not in "
                    "FIELD_ENCRYPTION_KEYS (keep old keys after the new one until "
                    "`manage.py rotate_field_keys` has run).") from None
        return super().to_python(value)


class EncryptedCharField(FieldKeysMixin, fields.EncryptedCharField):
    pass


class EncryptedDateField(FieldKeysMixin, fields.EncryptedDateField):
    pass
