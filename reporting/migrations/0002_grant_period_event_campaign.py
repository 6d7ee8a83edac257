import hashlib
from datetime import date

from django.db import migrations, models
import django.db.models.expressions


def fill(apps, schema_editor):
    """Grants pay for their whole State fiscal year until told otherwise; events
    of one day and title form one campaign."""
    Grant = apps.get_model("reporting", "Grant")
    for grant in Grant.objects.all():
        start = int(grant.fiscal_year[:4])
        grant.period_start, grant.period_end = date(start, 4, 1), date(start + 1, 3, 31)
        grant.save(update_fields=["period_start", "period_end"])
    ServiceEvent = apps.get_model("reporting", "ServiceEvent")
    for event in ServiceEvent.objects.all():
        normal = " ".join(event.title.casefold().split())
        event.campaign = hashlib.sha256(
            f"{event.date.isoformat()}|{normal}".encode()).hexdigest()
        event.save(update_fields=["campaign"])


class Migration(migrations.Migration):

    dependencies = [
        ("reporting", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="grant", name="one_grant_per_funder_grantee_year"),
        migrations.AddField(model_name="grant", name="period_start",
                            field=models.DateField(null=True)),
        migrations.AddField(model_name="grant", name="period_end",
                            field=models.DateField(null=True)),
        migrations.AddField(
            model_name="serviceevent", name="campaign",
            field=models.CharField(
                blank=True, db_index=True, max_length=64,
                help_text="Events held on the same day under the same title (a workshop in "
                          "every district) share it: reports count them as one campaign.")),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.AlterField(model_name="grant", name="period_start",
                              field=models.DateField(help_text="First day the grant pays for.")),
        migrations.AlterField(model_name="grant", name="period_end",
                              field=models.DateField(help_text="Last day the grant pays for.")),
        migrations.AlterField(
            model_name="grant", name="service_types",
            field=models.ManyToManyField(
                blank=True, related_name="+", to="orgs.servicetype",
                help_text="The services the grant funds; none listed: every service.")),
        migrations.AlterModelOptions(
            name="grant",
            options={"ordering": ["fiscal_year", "funder__name", "grantee__name",
                                  "period_start", "id"]}),
        migrations.AddConstraint(
            model_name="grant",
            constraint=models.CheckConstraint(
                condition=models.Q(period_start__lte=django.db.models.expressions.F("period_end")),
                name="grant_period_in_order")),
    ]
