"""Shared argument handling for pymess commands."""

from django.core.management.base import CommandError, CommandParser

MESSAGE_TYPES = ("sms",)


def add_type_argument(parser: CommandParser) -> None:
    parser.add_argument(
        "--type",
        dest="message_type",
        default="sms",
        help="Message type to process; only 'sms' exists.",
    )


def check_type(message_type: str) -> None:
    if message_type not in MESSAGE_TYPES:
        raise CommandError(
            f"Unknown message type {message_type!r}; choose one of: {', '.join(MESSAGE_TYPES)}."
        )
