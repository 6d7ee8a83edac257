from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print where the demo API's docs are and how to get a token."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", default="8000")

    def handle(self, *args, **options):
        base = f"http://{options['host']}:{options['port']}"
        self.stdout.write(f"""
Coalition Referral & Reporting API (demo) at {base}
  Swagger UI   {base}/api/docs/
  Redoc        {base}/api/redoc/
  OpenAPI 3    {base}/api/schema/
  GraphQL      {base}/graphql/   (bearer token required)
  Admin        {base}/admin/     (admin.idc / coalition-demo-2017)

Get a token (Senator Peralta's district office, client credentials):
  curl -s -u demo-peralta-office:demo-peralta-office-secret \\
       -d grant_type=client_credentials {base}/o/token/

Other demo clients: demo-hotline, demo-camba, demo-cala, demo-funder,
demo-coalition-admin (secret: <client_id>-secret). See README.md.

Webhooks are delivered by a Celery worker started alongside (log: var/celery.log);
examples/ holds a partner client that syncs, accepts and verifies them.
""")
