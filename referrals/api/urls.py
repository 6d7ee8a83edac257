from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import ClientViewSet, ReferralViewSet, RoutingSuggestionsView

router = SimpleRouter(trailing_slash=True)
router.register("referrals", ReferralViewSet, basename="referral")
router.register("clients", ClientViewSet, basename="client")

urlpatterns = router.urls + [
    path("routing/suggestions/", RoutingSuggestionsView.as_view(), name="routing-suggestions"),
]
