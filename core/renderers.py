"""CSV and printable HTML for reports. Errors stay problem+json whatever the format."""

import csv
import io
import json

from django.template.loader import render_to_string
from rest_framework import renderers

# Cells starting with these could run as formulas in a spreadsheet.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return "" if value is None else value


def _is_error(renderer_context) -> bool:
    response = (renderer_context or {}).get("response")
    return response is not None and response.status_code >= 400


class CSVRenderer(renderers.BaseRenderer):
    """RFC 4180 CSV with a header row and a UTF-8 byte-order mark for spreadsheets.
    The view supplies ``table`` = (header, rows) in the response data."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if _is_error(renderer_context) or not isinstance(data, dict) or "table" not in data:
            return json.dumps(data, default=str).encode()
        header, rows = data["table"]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([_safe(h) for h in header])
        for row in rows:
            writer.writerow([_safe(v) for v in row])
        response = renderer_context["response"]
        if data.get("filename"):
            response["Content-Disposition"] = f'attachment; filename="{data["filename"]}"'
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")


class PrintableHTMLRenderer(renderers.BaseRenderer):
    """A printable page from a template named by the view."""

    media_type = "text/html"
    format = "html"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if _is_error(renderer_context) or not isinstance(data, dict) or "template" not in data:
            return json.dumps(data, default=str).encode()
        return render_to_string(data["template"], data["context"]).encode("utf-8")
