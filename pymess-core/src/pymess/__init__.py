"""pymess: send SMS from Django with every message on record.

The public entry points are :func:`pymess.backend.sms.send` and
:func:`pymess.backend.sms.send_template`; third-party hook plugins decorate
their functions with :data:`hookimpl`.
"""

import pluggy

__version__ = "0.1.0"

#: Marker for hook implementations: ``@pymess.hookimpl def pymess_sms_post_send(...)``.
hookimpl = pluggy.HookimplMarker("pymess")

__all__ = ["__version__", "hookimpl"]
