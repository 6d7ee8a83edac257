from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import BudgetRequestView, GrantViewSet, ServiceEventViewSet, ServiceNumbersView

router = SimpleRouter(trailing_slash=True)
router.register("service-events", ServiceEventViewSet, basename="service-event")
router.register("grants", GrantViewSet, basename="grant")

urlpatterns = router.urls + [
    path("reports/service-numbers/", ServiceNumbersView.as_view(), name="service-numbers"),
    path("reports/budget-request/", BudgetRequestView.as_view(), name="budget-request"),
]
