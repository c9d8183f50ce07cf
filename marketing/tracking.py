"""Signed links of campaign e-mails: the open pixel, the click redirect and the unsubscribe page.

Every token is made with django.core.signing under its own salt, so a token of one kind is never accepted
as another. The click token signs the member id AND the target URL together: the redirect goes only to a
URL we signed, so a tampered token (or a hand-made one) is a 404, never an open redirect. The readers
return None for anything that is not a valid token of their kind; they never raise.

The links are absolute (settings.SITE_URL, as the service desk's e-mails use), since they are opened from
a mail client.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.html import escape

OPEN_SALT = "marketing.tracking.open"
CLICK_SALT = "marketing.tracking.click"
UNSUBSCRIBE_SALT = "marketing.tracking.unsubscribe"
TOKEN_MAX = 2000  # longer path segments are not ours (a signed click token of a 1,500-character URL fits)

# The href of an <a> tag in the rendered HTML part (the template engine quotes attributes with ").
LINK_RE = re.compile(r'(<a\b[^>]*?\bhref=")([^"]*)(")', re.IGNORECASE)
TRACKED_SCHEMES = ("http://", "https://")


def _sign(value: Any, salt: str) -> str:
    return signing.Signer(salt=salt).sign_object(value, compress=True)


def _unsign(token: str, salt: str) -> Any:
    if not isinstance(token, str) or not token or len(token) > TOKEN_MAX:
        return None
    try:
        return signing.Signer(salt=salt).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError, OverflowError):
        return None  # zlib / base64 / JSON errors of a token that was signed but is not ours cannot happen


def _member_id(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


# --- tokens ------------------------------------------------------------------------------------------------


def open_token(member_id: int) -> str:
    return _sign(member_id, OPEN_SALT)


def click_token(member_id: int, url: str) -> str:
    return _sign({"m": member_id, "u": url}, CLICK_SALT)


def unsubscribe_token(member_id: int) -> str:
    return _sign(member_id, UNSUBSCRIBE_SALT)


def read_open_token(token: str) -> int | None:
    """The member id of a valid open-pixel token, else None."""
    return _member_id(_unsign(token, OPEN_SALT))


def read_unsubscribe_token(token: str) -> int | None:
    """The member id of a valid unsubscribe token, else None."""
    return _member_id(_unsign(token, UNSUBSCRIBE_SALT))


def read_click_token(token: str) -> tuple[int, str] | None:
    """(member id, target URL) of a valid click token whose target is an http(s) URL, else None."""
    value = _unsign(token, CLICK_SALT)
    if not isinstance(value, dict):
        return None
    member_id, url = _member_id(value.get("m")), value.get("u")
    if member_id is None or not isinstance(url, str) or not url.lower().startswith(TRACKED_SCHEMES):
        return None
    return member_id, url


# --- absolute URLs -----------------------------------------------------------------------------------------


def open_url(member_id: int) -> str:
    return settings.SITE_URL + reverse("marketing:track-open", args=[open_token(member_id)])


def click_url(member_id: int, url: str) -> str:
    return settings.SITE_URL + reverse("marketing:track-click", args=[click_token(member_id, url)])


def unsubscribe_url(member_id: int) -> str:
    return settings.SITE_URL + reverse("marketing:unsubscribe", args=[unsubscribe_token(member_id)])


def rewrite_links(html: str, *, member_id: int) -> str:
    """Every http(s) link of the rendered HTML part pointed at the signed click redirect (mailto:, tel:,
    anchors and our own unsubscribe link stay as they are)."""
    own = settings.SITE_URL + reverse("marketing:unsubscribe", args=["x"])[:-2]

    def replace(match: re.Match[str]) -> str:
        target = unescape(match.group(2)).strip()
        if not target.lower().startswith(TRACKED_SCHEMES) or target.startswith(own):
            return match.group(0)
        return match.group(1) + escape(click_url(member_id, target)) + match.group(3)

    return LINK_RE.sub(replace, html)
