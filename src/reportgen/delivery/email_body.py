"""The report email itself: a plain-text and an HTML body, the attachments, and stable headers.

Bodies are Jinja templates in a sandboxed environment with `StrictUndefined`; the HTML one
autoescapes, so a narrative sentence or a KPI label can never inject markup. Attachments are
kept while their total fits the size cap; beyond it, the largest files become links listed in
the body. The Message-ID is derived from the delivery id, so a retried send is recognisable.
Given the app's public address, both bodies link to the run on the app's Runs page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from urllib.parse import urlencode, urlsplit, urlunsplit

from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from reportgen.domain.delivery import Attachment, Parcel

_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]")
RUNS_PATH = "run-history"
"""The Runs page's ``url_path`` in ``app.py``; a test keeps the two equal."""
RUN_PARAM = "run"
"""The query parameter the Runs page reads to open one run."""

_TEXT = """\
[{{ classification | upper }}] {{ title }}
{{ schedule }} · generated {{ generated }}
{% if summary %}
{% for sentence in summary %}{{ sentence }}
{% endfor %}{% endif %}{% if kpis %}
{% for label, value, change in kpis -%}
- {{ label }}: {{ value }}{% if change %} ({{ change }}){% endif %}
{% endfor %}{% endif %}{% if attached %}
Attached: {{ attached | join(", ") }}
{% endif %}{% if links %}
Too large to attach, download here:
{% for name, url in links %}- {{ name }}: {{ url }}
{% endfor %}{% endif %}{% if missing %}
Too large to attach and no download link was available: {{ missing | join(", ") }}
{% endif %}{% if run_url %}
See this run in reportgen: {{ run_url }}
{% endif %}
This report is classified {{ classification }}. Do not forward it outside the audience
that classification allows.
"""

_HTML = """\
<!doctype html>
<html><head><style>
td, th { padding: 4px 12px 4px 0; border-top: 1px solid #e4e7eb }
.l { text-align: left } .r { text-align: right }
</style></head><body style="font-family: Arial, sans-serif; color: #1f2933; max-width: 640px">
<p style="background: #1f2933; color: #fff; padding: 4px 8px; font-size: 12px;
  letter-spacing: 0.08em">{{ classification | upper }}</p>
<h1 style="font-size: 20px; margin: 12px 0 4px">{{ title }}</h1>
<p style="color: #52606d; font-size: 13px; margin: 0 0 16px">{{ schedule }} · generated
  {{ generated }}</p>
{% for sentence in summary %}<p>{{ sentence }}</p>
{% endfor %}{% if kpis %}
<table style="border-collapse: collapse; margin: 12px 0">
<tr><th class="l">Measure</th><th class="r">Value</th><th class="r">Change</th></tr>
{% for label, value, change in kpis %}<tr>
<td class="l">{{ label }}</td><td class="r">{{ value }}</td><td class="r">{{ change }}</td>
</tr>
{% endfor %}</table>{% endif %}
{% if attached %}<p>Attached: {{ attached | join(", ") }}</p>{% endif %}
{% if links %}<p>Too large to attach, download here:</p>
<ul>{% for name, url in links %}<li><a href="{{ url }}">{{ name }}</a></li>{% endfor %}</ul>
{% endif %}{% if missing %}<p>Too large to attach and no download link was available:
{{ missing | join(", ") }}</p>{% endif %}
{% if run_url %}<p><a href="{{ run_url }}">See this run in reportgen</a></p>{% endif %}
<p style="color: #7b8794; font-size: 12px">This report is classified {{ classification }}.
Do not forward it outside the audience that classification allows.</p>
</body></html>
"""

_TEXT_TEMPLATE = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
).from_string(_TEXT)
_HTML_TEMPLATE = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True).from_string(_HTML)


@dataclass(frozen=True)
class Packing:
    """Which files ride along as attachments and which are listed as links instead."""

    attached: tuple[Attachment, ...]
    linked: tuple[tuple[str, str], ...]  # (filename, url)
    missing: tuple[str, ...]  # too large, and the parcel has no link for them


def pack(parcel: Parcel, limit_bytes: int) -> Packing:
    """Attach files while the total fits `limit_bytes`, turning the largest into links."""
    kept = list(parcel.files)
    total = sum(len(f.data) for f in kept)
    dropped: list[Attachment] = []
    for file in sorted(parcel.files, key=lambda f: len(f.data), reverse=True):
        if total <= limit_bytes:
            break
        kept.remove(file)
        dropped.append(file)
        total -= len(file.data)
    # Only web links: a link is shown as a clickable anchor, so no javascript: or data: URLs.
    links = {k: v for k, v in parcel.links.items() if v.startswith(("https://", "http://"))}
    linked = tuple((f.filename, links[f.filename]) for f in dropped if f.filename in links)
    missing = tuple(f.filename for f in dropped if f.filename not in links)
    return Packing(tuple(kept), linked, missing)


def message_id(delivery_id: str, sender: str) -> str:
    """``<delivery-id@sender-domain>``: the same for every attempt of one delivery."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "reportgen"
    return f"<{_UNSAFE_ID.sub('-', delivery_id)}@{_UNSAFE_ID.sub('-', domain)}>"


def subject(report_title: str, schedule_name: str) -> str:
    """``Weekly sales: Monday 8:00``; the title alone when the schedule is named after the
    report (as "Save as schedule" names it). One line, however the names were typed: header
    values may not hold line breaks."""
    title, name = " ".join(report_title.split()), " ".join(schedule_name.split())
    return title if title.casefold() == name.casefold() else f"{title}: {name}"


def run_url(public_url: str, run_id: str) -> str | None:
    """The address of run `run_id` on the Runs page of the app at `public_url`
    (``https://reports.example.com/run-history?run=<id>``); None unless `public_url` is an
    http(s) address. The base's own query and fragment are dropped, the id is URL-encoded."""
    base = urlsplit(public_url.strip())
    if base.scheme.lower() not in {"http", "https"} or not base.netloc or not run_id:
        return None
    path = f"{base.path.rstrip('/')}/{RUNS_PATH}"
    return urlunsplit((base.scheme, base.netloc, path, urlencode({RUN_PARAM: run_id}), ""))


def compose(
    parcel: Parcel,
    *,
    sender: str,
    recipient: str,
    limit_bytes: int,
    now: datetime,
    public_url: str | None = None,
) -> EmailMessage:
    """The full message for `recipient`: multipart/alternative bodies plus attachments, linking
    to the run in the app when `public_url` (``REPORTGEN_PUBLIC_URL``) is given."""
    packing = pack(parcel, limit_bytes)
    generated = parcel.generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    context = {
        "title": parcel.report_title,
        "schedule": parcel.schedule_name,
        "classification": parcel.classification,
        "generated": generated,
        "summary": list(parcel.summary),
        "kpis": [list(k) for k in parcel.kpis],
        "attached": [f.filename for f in packing.attached],
        "links": [list(pair) for pair in packing.linked],
        "missing": list(packing.missing),
        "run_url": run_url(public_url, parcel.run_id) if public_url else None,
    }
    message = EmailMessage()
    message["Subject"] = subject(parcel.report_title, parcel.schedule_name)
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = format_datetime(now.astimezone(UTC))
    message["Message-ID"] = message_id(parcel.delivery_id, sender)
    message["X-Reportgen-Delivery"] = parcel.delivery_id
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    message.set_content(_TEXT_TEMPLATE.render(context))
    message.add_alternative(_HTML_TEMPLATE.render(context), subtype="html")
    if packing.attached:
        message.make_mixed()
    for file in packing.attached:
        maintype, _, subtype = file.content_type.partition("/")
        message.add_attachment(
            file.data,
            maintype=maintype or "application",
            subtype=(subtype.split(";")[0].strip() or "octet-stream"),
            filename=file.filename,
        )
    return message
