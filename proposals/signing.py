"""The key that signs the history's tree heads: Ed25519, from HISTORY_SIGNING_KEY.

The key lives in the environment, never in the database, so whoever can rewrite the tables
still cannot sign a head for what they wrote (docs/security.md). Without the variable a
development key is derived from SECRET_KEY, so a clone, the tests and every process of one
deployment agree on it; a deployment that relies on it is warned (check proposals.W001).
"""

import base64
import binascii
import functools
import hashlib
import logging

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

logger = logging.getLogger(__name__)

ALGORITHM = "Ed25519"
_DEV_DERIVATION = b"multitude-history-development-key:"


def _from_setting(value: str) -> Ed25519PrivateKey:
    text = value.strip()
    if text.startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("HISTORY_SIGNING_KEY is a PEM key, but not an Ed25519 one.")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise ImproperlyConfigured(
            "HISTORY_SIGNING_KEY must be base64 of 32 bytes or an Ed25519 PEM key."
        ) from error
    if len(raw) != 32:
        raise ImproperlyConfigured(
            f"HISTORY_SIGNING_KEY must decode to 32 bytes, not {len(raw)} (an Ed25519 seed)."
        )
    return Ed25519PrivateKey.from_private_bytes(raw)


def is_development_key() -> bool:
    return not settings.HISTORY_SIGNING_KEY.strip()


@functools.cache
def _private_key(configured: str, secret_key: str) -> Ed25519PrivateKey:
    if configured.strip():
        return _from_setting(configured)
    if not secret_key.startswith("django-insecure") and not settings.DEBUG:
        logger.warning(
            "HISTORY_SIGNING_KEY is not set: tree heads are signed with a key derived from "
            "SECRET_KEY. Set HISTORY_SIGNING_KEY (docs/security.md) before members rely on them."
        )
    return Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(_DEV_DERIVATION + secret_key.encode("utf-8")).digest()
    )


def private_key() -> Ed25519PrivateKey:
    return _private_key(settings.HISTORY_SIGNING_KEY, settings.SECRET_KEY)


def public_key_bytes() -> bytes:
    return (
        private_key()
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def key_id_of(public_key: bytes) -> str:
    """The first 16 hex digits of SHA-256 over the 32 raw bytes of the public key."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def key_id() -> str:
    return key_id_of(public_key_bytes())


def public_key_document() -> dict:
    """What /api/v1/history/public-key publishes (docs/history-verification.md)."""
    key = private_key().public_key()
    return {
        "algorithm": ALGORITHM,
        "key_id": key_id(),
        "public_key": base64.b64encode(public_key_bytes()).decode("ascii"),
        "public_key_pem": key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii"),
    }


def sign(message: bytes) -> str:
    return base64.b64encode(private_key().sign(message)).decode("ascii")


def verify(message: bytes, signature: str, public_key: bytes | None = None) -> bool:
    """True when `signature` (base64) is this key's (or `public_key`'s) over `message`."""
    try:
        raw = base64.b64decode(signature, validate=True)
        key = Ed25519PublicKey.from_public_bytes(public_key or public_key_bytes())
        key.verify(raw, message)
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


@checks.register(checks.Tags.security, deploy=True)
def check_signing_key(app_configs=None, **kwargs):
    if not is_development_key():
        try:
            private_key()
        except (ImproperlyConfigured, ValueError) as error:
            return [checks.Error(str(error), id="proposals.E001")]
        return []
    return [
        checks.Warning(
            "HISTORY_SIGNING_KEY is not set: tree heads are signed with a development key "
            "derived from SECRET_KEY.",
            hint="Generate one with `python manage.py history_key` and keep it outside the "
            "database (docs/security.md).",
            id="proposals.W001",
        )
    ]
