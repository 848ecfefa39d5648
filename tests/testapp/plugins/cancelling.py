"""A pre-send hook that cancels messages to a blocked number."""

from pymess import hookimpl
from pymess.exceptions import SendCancelled


@hookimpl
def pymess_sms_pre_send(message, backend):
    if message.recipient == "+420777000000":
        raise SendCancelled(f"{message.recipient} is on the block list")
