"""``manage.py pymess_demo send|report``: the steps of ``scripts/demo.py``.

``send`` sends a plain message, a template message with a locale, and queues a
batch; ``report`` prints a table of every message. ``scripts/demo.py`` runs
``send_messages_batch --type=sms`` in between, as cron would.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.test.utils import override_settings

from pymess.backend.sms import send, send_template
from pymess.models.sms import OutputSMSMessage, SMSTemplate
from shop.models import Customer, Order

TEMPLATES = {
    # slug, locale: body
    ("order-shipped", ""): "Hi {{ name }}, your order {{ number }} has shipped.",
    ("order-shipped", "cs"): "Dobrý den {{ name }}, objednávka {{ number }} byla odeslána.",
}

BATCH = [
    ("+420 603 111 222", "Sale starts tomorrow at 9:00. Reply STOP to opt out."),
    ("+420 603 111 333", "Your invoice of 25 € is ready: {see the link} in your account."),
    (
        "+420 603 111 444",
        "Maintenance notice: on Saturday between 22:00 and 23:30 the customer portal will be "
        "unavailable while we upgrade our systems. Orders placed before then are not affected. "
        "Thank you for your patience!",
    ),
]

COLUMNS = ("id", "recipient", "state", "encoding", "segments", "template/locale", "tag", "backend")


class Command(BaseCommand):
    help = "Run one step of the pymess demo: 'send' messages or 'report' what happened."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("step", choices=("send", "report"))

    def handle(self, *args: Any, step: str, **options: Any) -> None:
        if step == "send":
            self.send()
        else:
            self.report()

    def send(self) -> None:
        jana, _ = Customer.objects.get_or_create(name="Jana Nováková", phone="+420602000111")
        order, _ = Order.objects.get_or_create(customer=jana, number="A-1001")
        for (slug, locale), body in TEMPLATES.items():
            SMSTemplate.objects.update_or_create(slug=slug, locale=locale, defaults={"body": body})

        plain = send("777 123 456", "Your code is 4711. It expires in 10 minutes.", tag="otp")
        self.stdout.write(f"1. plain message #{plain.pk}: sent at once -> {plain.state}")

        templated = send_template(
            "+420 602 000 111",
            "order-shipped",
            {"name": "Jana", "number": order.number},
            locale="cs_CZ",  # no cs-cz template: falls back to cs
            related_objects=[jana, order],
            tag="shipping",
        )
        assert templated is not None
        self.stdout.write(
            f"2. template message #{templated.pk}: order-shipped asked for cs-cz, "
            f"rendered from locale {templated.locale!r} -> {templated.state}"
        )

        with override_settings(PYMESS_SMS_BATCH_SENDING=True):
            queued = [send(number, text, tag="newsletter") for number, text in BATCH]
        states = ", ".join(f"#{m.pk} {m.state}" for m in queued)
        self.stdout.write(f"3. batch mode on: {len(queued)} messages queued ({states})")

    def report(self) -> None:
        rows = [
            (
                str(m.pk),
                m.recipient,
                m.state,
                m.encoding,
                str(m.segments),
                f"{m.template_slug}/{m.locale or '-'}" if m.template_slug else "-",
                m.tag or "-",
                f"{m.backend_alias} ({m.backend.rsplit('.', 1)[-1]})",
            )
            for m in OutputSMSMessage.objects.order_by("pk")
        ]
        widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(COLUMNS)]
        line = "  ".join(f"{{:<{w}}}" for w in widths)
        self.stdout.write(line.format(*COLUMNS).rstrip())
        self.stdout.write("  ".join("-" * w for w in widths))
        for row in rows:
            self.stdout.write(line.format(*row).rstrip())
