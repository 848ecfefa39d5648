"""A hook plugin whose every hook raises."""

from pymess import hookimpl


@hookimpl
def pymess_sms_state_updated(message, old_state, new_state):
    raise RuntimeError("state hook exploded")


@hookimpl
def pymess_sms_post_send(message):
    raise RuntimeError("post-send hook exploded")


@hookimpl
def pymess_sms_pre_send(message):
    raise RuntimeError("pre-send hook exploded")
