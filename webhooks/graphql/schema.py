"""GraphQL for webhooks: resolvers call webhooks.selectors and webhooks.services,
exactly as REST does."""

from __future__ import annotations

import json

import graphene
from graphene_django import DjangoObjectType
from graphene_django.filter import DjangoFilterConnectionField

from core.scopes import WEBHOOKS_MANAGE
from webhooks import selectors, services
from webhooks.filtersets import WebhookDeliveryFilterSet, WebhookSubscriptionFilterSet
from webhooks.models import (
    DeliveryState,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)

from core.graphql import enum_value, require_scopes

WebhookEventTypeEnum = graphene.Enum.from_enum(EventType, name="WebhookEventType",
                                               description="What happened")
DeliveryStateEnum = graphene.Enum.from_enum(DeliveryState, name="WebhookDeliveryState")


class WebhookSubscriptionType(DjangoObjectType):
    organization = graphene.String(required=True, description="Organisation slug.")
    events = graphene.List(graphene.NonNull(WebhookEventTypeEnum), required=True)

    class Meta:
        model = WebhookSubscription
        name = "WebhookSubscription"
        fields = ("id", "url", "description", "active", "created_at", "updated_at")
        filterset_class = WebhookSubscriptionFilterSet
        use_connection = True

    def resolve_organization(self, info):
        return self.organization.slug

    def resolve_events(self, info):
        return self.events


class WebhookAttemptType(DjangoObjectType):
    class Meta:
        model = WebhookAttempt
        name = "WebhookAttempt"
        fields = ("number", "started_at", "finished_at", "status_code", "error", "duration_ms")


class WebhookDeliveryType(DjangoObjectType):
    event_type = graphene.Field(WebhookEventTypeEnum, required=True)
    state = graphene.Field(DeliveryStateEnum, required=True)
    next_attempt_at = graphene.DateTime(description="Null once succeeded or failed.")
    payload = graphene.JSONString(required=True, description="The event as sent (ids only).")
    attempt_log = graphene.List(graphene.NonNull(WebhookAttemptType), required=True)
    redelivery_of = graphene.UUID()

    class Meta:
        model = WebhookDelivery
        name = "WebhookDelivery"
        fields = ("id", "event_id", "attempts", "created_at", "last_attempt_at",
                  "last_status_code", "last_error", "delivered_at")
        filterset_class = WebhookDeliveryFilterSet
        use_connection = True

    def resolve_event_type(self, info):
        return self.event_type

    def resolve_state(self, info):
        return self.state

    def resolve_next_attempt_at(self, info):
        return self.next_attempt_at if self.state == DeliveryState.PENDING else None

    def resolve_payload(self, info):
        return json.loads(self.body)

    def resolve_attempt_log(self, info):
        return self.attempt_log.all()

    def resolve_redelivery_of(self, info):
        return self.redelivery_of_id


class WebhooksQuery(graphene.ObjectType):
    webhook_subscriptions = DjangoFilterConnectionField(
        WebhookSubscriptionType, description="Your organisation's webhooks.")
    webhook_deliveries = DjangoFilterConnectionField(
        WebhookDeliveryType, subscription_id=graphene.UUID(required=True),
        description="One webhook's delivery log, newest first.")

    def resolve_webhook_subscriptions(root, info, **kwargs):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        return selectors.subscription_list(principal).select_related("organization")

    def resolve_webhook_deliveries(root, info, subscription_id, **kwargs):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        subscription = selectors.visible_subscription(principal, subscription_id)
        return selectors.delivery_list(principal, subscription).order_by("-created_at", "-id")


# --- mutations ---------------------------------------------------------------------


class WebhookSubscriptionInput(graphene.InputObjectType):
    url = graphene.String(required=True, description="https URL on a public host. "
                                                     + services.URL.describe())
    events = graphene.List(graphene.NonNull(WebhookEventTypeEnum), required=True)
    description = graphene.String(description=services.DESCRIPTION.describe())
    active = graphene.Boolean()


class WebhookSubscriptionPatch(graphene.InputObjectType):
    url = graphene.String()
    events = graphene.List(graphene.NonNull(WebhookEventTypeEnum))
    description = graphene.String()
    active = graphene.Boolean()


def _changes(data) -> dict:
    changes = {key: value for key, value in data.items() if value is not None}
    if "events" in changes:
        changes["events"] = [enum_value(e) for e in changes["events"]]
    return changes


class CreateWebhookSubscription(graphene.Mutation):
    """Register an endpoint. The secret is returned once: store it now."""

    class Arguments:
        input = WebhookSubscriptionInput(required=True)

    subscription = graphene.Field(WebhookSubscriptionType, required=True)
    secret = graphene.String(required=True, description="Signing secret (whsec_...), "
                                                        "shown only now.")

    @staticmethod
    def mutate(root, info, input):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        subscription, secret = services.subscription_create(
            principal=principal, data=services.SubscriptionInput(**_changes(input)))
        return CreateWebhookSubscription(subscription=subscription, secret=secret)


class UpdateWebhookSubscription(graphene.Mutation):
    class Arguments:
        id = graphene.UUID(required=True)
        input = WebhookSubscriptionPatch(required=True)

    subscription = graphene.Field(WebhookSubscriptionType, required=True)

    @staticmethod
    def mutate(root, info, id, input):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        return UpdateWebhookSubscription(subscription=services.subscription_update(
            principal=principal, subscription_id=id, changes=_changes(input)))


class DeleteWebhookSubscription(graphene.Mutation):
    class Arguments:
        id = graphene.UUID(required=True)

    deleted_id = graphene.UUID(required=True)

    @staticmethod
    def mutate(root, info, id):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        services.subscription_delete(principal=principal, subscription_id=id)
        return DeleteWebhookSubscription(deleted_id=id)


class RotateWebhookSecret(graphene.Mutation):
    """A new secret; for a day deliveries are signed with the old and the new."""

    class Arguments:
        id = graphene.UUID(required=True)

    subscription = graphene.Field(WebhookSubscriptionType, required=True)
    secret = graphene.String(required=True)

    @staticmethod
    def mutate(root, info, id):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        subscription, secret = services.subscription_rotate_secret(principal=principal,
                                                                   subscription_id=id)
        return RotateWebhookSecret(subscription=subscription, secret=secret)


class PingWebhookSubscription(graphene.Mutation):
    """Send a webhook.ping event to the endpoint."""

    class Arguments:
        id = graphene.UUID(required=True)

    delivery = graphene.Field(WebhookDeliveryType, required=True)

    @staticmethod
    def mutate(root, info, id):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        return PingWebhookSubscription(
            delivery=services.subscription_ping(principal=principal, subscription_id=id))


class RedeliverWebhook(graphene.Mutation):
    """Send an event again, as a new delivery with the same webhook-id."""

    class Arguments:
        subscription_id = graphene.UUID(required=True)
        delivery_id = graphene.UUID(required=True)

    delivery = graphene.Field(WebhookDeliveryType, required=True)

    @staticmethod
    def mutate(root, info, subscription_id, delivery_id):
        principal = require_scopes(info, WEBHOOKS_MANAGE)
        return RedeliverWebhook(delivery=services.delivery_redeliver(
            principal=principal, subscription_id=subscription_id, delivery_id=delivery_id))


class WebhooksMutation(graphene.ObjectType):
    create_webhook_subscription = CreateWebhookSubscription.Field()
    update_webhook_subscription = UpdateWebhookSubscription.Field()
    delete_webhook_subscription = DeleteWebhookSubscription.Field()
    rotate_webhook_secret = RotateWebhookSecret.Field()
    ping_webhook_subscription = PingWebhookSubscription.Field()
    redeliver_webhook = RedeliverWebhook.Field()
