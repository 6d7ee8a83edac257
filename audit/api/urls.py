from rest_framework.routers import SimpleRouter

from .views import AuditRecordViewSet

router = SimpleRouter(trailing_slash=True)
router.register("audit-records", AuditRecordViewSet, basename="audit-record")

urlpatterns = router.urls
