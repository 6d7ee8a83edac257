import json

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import DomainChoiceField, RequiredTextField, TextField

from ..models import (
    SUBSCRIBABLE_EVENTS,
    DeliveryState,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from .. import services as rules
from ..services import SECRET_OVERLAP

EVENTS_HELP = "Event types to deliver: " + ", ".join(SUBSCRIBABLE_EVENTS) + "."


class WebhookSubscriptionSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS),
                                   help_text=EVENTS_HELP)
    secret_rotated_at = serializers.SerializerMethodField(
        help_text="When the secret was last rotated (the old one signs too until a day "
                  "after this).")

    class Meta:
        model = WebhookSubscription
        fields = ["id", "organization", "url", "events", "description", "active",
                  "created_at", "updated_at", "secret_rotated_at"]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_secret_rotated_at(self, obj):
        if obj.previous_secret_expires_at is None:
            return None
        return serializers.DateTimeField().to_representation(
            obj.previous_secret_expires_at - SECRET_OVERLAP)


class WebhookSubscriptionWithSecretSerializer(WebhookSubscriptionSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (Standard Webhooks, whsec_...). Shown only in this "
                  "response: store it now.")

    class Meta(WebhookSubscriptionSerializer.Meta):
        fields = WebhookSubscriptionSerializer.Meta.fields + ["secret"]
        read_only_fields = fields


class WebhookSubscriptionInputSerializer(serializers.Serializer):
    url = RequiredTextField(validators=rules.URL.validators(),
                            help_text="https URL on a public host; we POST events to it.")
    events = serializers.ListField(child=DomainChoiceField(choices=SUBSCRIBABLE_EVENTS),
                                   validators=rules.EVENTS.validators(), help_text=EVENTS_HELP)
    description = TextField(required=False, allow_blank=True, default="",
                            validators=rules.DESCRIPTION.validators())
    active = serializers.BooleanField(required=False, default=True)


class WebhookAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = ["number", "started_at", "finished_at", "status_code", "error",
                  "duration_ms"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=DeliveryState.choices, read_only=True)
    event_type = serializers.ChoiceField(choices=EventType.choices, read_only=True)
    next_attempt_at = serializers.SerializerMethodField(
        help_text="When the next attempt is due; null once succeeded or failed.")
    payload = serializers.SerializerMethodField(help_text="The event as sent (ids only).")
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True,
                                           help_text="Each attempt; an attempt with no "
                                                     "finished_at was interrupted.")

    class Meta:
        model = WebhookDelivery
        fields = ["id", "event_id", "event_type", "state", "attempts", "created_at",
                  "next_attempt_at", "last_attempt_at", "last_status_code", "last_error",
                  "delivered_at", "redelivery_of", "payload", "attempt_log"]
        read_only_fields = fields

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_next_attempt_at(self, obj):
        if obj.state != DeliveryState.PENDING:
            return None
        return serializers.DateTimeField().to_representation(obj.next_attempt_at)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, obj):
        return json.loads(obj.body)
