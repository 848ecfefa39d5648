"""A plugin implementing a hook that does not exist."""

from pymess import hookimpl


@hookimpl
def pymess_sms_pre_sned(message):
    pass
