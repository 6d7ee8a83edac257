from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CallerView, OrganizationViewSet, ServiceTypeViewSet

router = SimpleRouter(trailing_slash=True)
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("service-types", ServiceTypeViewSet, basename="service-type")

urlpatterns = router.urls + [path("me/", CallerView.as_view(), name="me")]
