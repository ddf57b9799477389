"""Database and service URLs as they may be shown: every credential masked, by one function."""

from __future__ import annotations

import re

MASK = "***"

_PASSWORD = re.compile(r"^([A-Za-z][\w+.-]*://[^:/?#@]*):[^/?#]*@")
"""The password of `scheme://user:password@host`."""

_CREDENTIAL = re.compile(r"([?&;])([^=&;#]*(?:pass|pwd|secret|token|key|credential|auth)[^=&;#]*)=[^&;#]*", re.I)
"""A query parameter that holds a credential (`?password=…`, `sslpassword=…`, `api_key=…`, `token=…`)."""


def masked(url: str) -> str:
    """`url` with the password in its authority and every credential in its query replaced by `***`."""
    url = _PASSWORD.sub(rf"\1:{MASK}@", url, count=1)
    return _CREDENTIAL.sub(rf"\1\2={MASK}", url)
