"""A plugin that tries to wrap a hook (not supported)."""

from pymess import hookimpl


@hookimpl(wrapper=True)
def pymess_sms_post_send(message):
    return (yield)
