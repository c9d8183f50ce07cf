"""Integration tokens: how a machine client (the phone system) authenticates to a JSON endpoint.

The key is shown once, when it is created; only its SHA-256 hash and an 8-character prefix (to
recognise it in the admin) are stored. A token acts as its `user`: whatever reads it authorises go
through `visible_to(token.user)`. A session cookie never stands in for a token: endpoints that
accept tokens call `token_authenticate(request)` and ignore `request.user`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from crm.models import IntegrationToken, User

# `last_used_at` is a hint for the administrator, not an audit log: one write a minute at most,
# not one per call of a busy phone system.
LAST_USED_PRECISION = timedelta(minutes=1)
# token_urlsafe(32) is 43 characters; anything much longer is not one of our keys (and is not hashed).
KEY_MAX_LENGTH = 128


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_issue_key(token: IntegrationToken) -> str:
    """Give an unsaved token a fresh key (hash and prefix set on it) and return the key, to show once."""
    key = secrets.token_urlsafe(32)
    token.key_hash = _hash(key)
    token.prefix = key[:8]
    return key


def token_create(*, name: str, user: User) -> tuple[IntegrationToken, str]:
    """A new token acting as `user`, and its key (shown once, never stored)."""
    token = IntegrationToken(name=name, user=user)
    key = token_issue_key(token)
    token.full_clean()
    token.save()
    return token, key


def token_revoke(*, token: IntegrationToken) -> IntegrationToken:
    """Revoke a token from now on; revoking a revoked token keeps its first revocation time."""
    if token.revoked_at is None:
        now = timezone.now()
        IntegrationToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
        token.refresh_from_db(fields=["revoked_at"])
    return token


def _key_from(request: HttpRequest) -> str:
    scheme, _sep, credentials = request.headers.get("Authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.headers.get("X-Api-Key", "").strip()


def token_authenticate(request: HttpRequest) -> User | None:
    """The user an active token in `Authorization: Bearer <key>` or `X-Api-Key: <key>` acts as, else None.

    None for a missing, unknown or revoked key and for a token whose user is inactive; the session
    is never consulted.
    """
    key = _key_from(request)
    if not key or len(key) > KEY_MAX_LENGTH:
        return None
    token = IntegrationToken.objects.active().select_related("user").filter(key_hash=_hash(key)).first()
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    stale = now - LAST_USED_PRECISION
    if token.last_used_at is None or token.last_used_at < stale:
        # Conditional, so two concurrent calls write once.
        IntegrationToken.objects.filter(Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=token.pk).update(
            last_used_at=now
        )
    return token.user
