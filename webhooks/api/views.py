"""REST for webhooks: parse, call a service or selector, render."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.errors import NotFound
from core.pagination import CursorPagination
from core.routing import UUID_PATTERN
from core.scopes import WEBHOOKS_MANAGE

from .. import selectors, services
from ..filtersets import WebhookDeliveryFilterSet, WebhookSubscriptionFilterSet
from ..models import WebhookDelivery
from .serializers import (
    WebhookDeliverySerializer,
    WebhookSubscriptionInputSerializer,
    WebhookSubscriptionSerializer,
    WebhookSubscriptionWithSecretSerializer,
)

DELIVERY_ID = OpenApiParameter("delivery_id", str, OpenApiParameter.PATH,
                               description="A delivery's id.")


class DeliveryPagination(CursorPagination):
    ordering = ("-created_at", "-id")
    page_size = 20


@extend_schema_view(
    list=extend_schema(summary="Your organisation's webhooks"),
    retrieve=extend_schema(summary="Get one webhook"),
    create=extend_schema(
        summary="Register a webhook endpoint",
        description="We POST each event to the URL, signed per Standard Webhooks "
                    "(webhook-id, webhook-timestamp, webhook-signature: HMAC-SHA256). The "
                    "response holds the signing secret, once. Payloads carry ids and the "
                    "event only: fetch the referral with your token.",
        request=WebhookSubscriptionInputSerializer,
        responses={201: WebhookSubscriptionWithSecretSerializer}),
    partial_update=extend_schema(summary="Change a webhook's URL, events, description or "
                                         "state", request=WebhookSubscriptionInputSerializer),
    destroy=extend_schema(summary="Delete a webhook and its delivery log"),
)
class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    serializer_class = WebhookSubscriptionSerializer
    filterset_class = WebhookSubscriptionFilterSet
    lookup_value_regex = UUID_PATTERN
    required_scopes = [WEBHOOKS_MANAGE]
    _input_codes = ("required", "too_long", "too_many_items", "unknown_event_type",
                    "webhook_url_invalid", "webhook_url_unresolvable", "webhook_url_forbidden",
                    "funder_not_allowed")
    problem_codes_by_action = {
        "create": (*_input_codes, "too_many_webhooks"),
        "partial_update": _input_codes,
        "ping": ("webhook_disabled",),
        "redeliver": ("webhook_disabled",),
    }

    def get_queryset(self):
        if self.action in ("deliveries", "delivery"):
            return selectors.delivery_list(self.request.auth)
        return selectors.subscription_list(self.request.auth).select_related("organization")

    def create(self, request):
        payload = WebhookSubscriptionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        subscription, secret = services.subscription_create(
            principal=request.auth, data=services.SubscriptionInput(**payload.validated_data))
        return self._with_secret(subscription, secret, status.HTTP_201_CREATED)

    def partial_update(self, request, pk=None):
        payload = WebhookSubscriptionInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        subscription = services.subscription_update(principal=request.auth, subscription_id=pk,
                                                    changes=payload.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=subscription.pk)).data)

    def destroy(self, request, pk=None):
        services.subscription_delete(principal=request.auth, subscription_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _with_secret(self, subscription, secret, http_status=status.HTTP_200_OK) -> Response:
        subscription = selectors.visible_subscription(self.request.auth, subscription.pk)
        subscription.secret = secret
        return Response(WebhookSubscriptionWithSecretSerializer(subscription).data,
                        status=http_status)

    @extend_schema(summary="Rotate the signing secret",
                   description="Returns the new secret, once. For 24 hours every delivery is "
                               "signed with the old and the new secret (two signatures).",
                   request=None, responses={200: WebhookSubscriptionWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        subscription, secret = services.subscription_rotate_secret(principal=request.auth,
                                                                   subscription_id=pk)
        return self._with_secret(subscription, secret)

    @extend_schema(summary="Send a test event (webhook.ping)", request=None,
                   responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = services.subscription_ping(principal=request.auth, subscription_id=pk)
        return self._delivery(delivery, status.HTTP_202_ACCEPTED)

    def _delivery(self, delivery: WebhookDelivery, http_status=status.HTTP_200_OK) -> Response:
        delivery = selectors.delivery_list(self.request.auth).get(pk=delivery.pk)
        return Response(WebhookDeliverySerializer(delivery).data, status=http_status)

    @extend_schema(summary="The webhook's delivery log, newest first",
                   filters=True, responses={200: WebhookDeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], filterset_class=WebhookDeliveryFilterSet,
            pagination_class=DeliveryPagination)
    def deliveries(self, request, pk=None):
        subscription = selectors.visible_subscription(request.auth, pk)
        queryset = self.filter_queryset(selectors.delivery_list(request.auth, subscription))
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(summary="Get one delivery with its attempts", parameters=[DELIVERY_ID],
                   responses={200: WebhookDeliverySerializer})
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None,
            url_path=rf"deliveries/(?P<delivery_id>{UUID_PATTERN})")
    def delivery(self, request, pk=None, delivery_id=None):
        subscription = selectors.visible_subscription(request.auth, pk)
        delivery = selectors.delivery_list(request.auth, subscription).filter(
            pk=delivery_id).first()
        if delivery is None:
            raise NotFound("No delivery with this id for this webhook.")
        return Response(WebhookDeliverySerializer(delivery).data)

    @extend_schema(summary="Send an event again",
                   description="A new delivery with the same webhook-id and body, attempted "
                               "now and retried like any other.",
                   parameters=[DELIVERY_ID], request=None,
                   responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"], filterset_class=None, pagination_class=None,
            url_path=rf"deliveries/(?P<delivery_id>{UUID_PATTERN})/redeliver")
    def redeliver(self, request, pk=None, delivery_id=None):
        delivery = services.delivery_redeliver(principal=request.auth, subscription_id=pk,
                                               delivery_id=delivery_id)
        return self._delivery(delivery, status.HTTP_202_ACCEPTED)
