"""The history's signing key: from HISTORY_SIGNING_KEY (base64 or PEM), else a development
key derived from SECRET_KEY, which a deployment is warned about."""

import base64

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from proposals import signing


def _raw(key):
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def test_it_reads_a_base64_key(settings):
    key = Ed25519PrivateKey.generate()
    settings.HISTORY_SIGNING_KEY = base64.b64encode(_raw(key)).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    assert signing.public_key_bytes() == public
    assert signing.verify(b"m", signing.sign(b"m"))
    assert not signing.verify(b"other", signing.sign(b"m"))
    assert signing.check_signing_key() == []


def test_it_reads_a_pem_key(settings):
    key = Ed25519PrivateKey.generate()
    settings.HISTORY_SIGNING_KEY = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    assert (
        signing.public_key_document()["public_key"]
        == base64.b64encode(
            key.public_key().public_bytes(
                serialization.Encoding.Raw, serialization.PublicFormat.Raw
            )
        ).decode()
    )


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode()])
def test_a_malformed_key_is_refused_with_its_variable_named(settings, value):
    settings.HISTORY_SIGNING_KEY = value
    with pytest.raises(ImproperlyConfigured, match="HISTORY_SIGNING_KEY"):
        signing.private_key()
    assert [error.id for error in signing.check_signing_key()] == ["proposals.E001"]


def test_without_a_key_a_development_key_is_derived_and_warned_about(settings):
    settings.HISTORY_SIGNING_KEY = ""
    first = signing.public_key_bytes()
    settings.SECRET_KEY = "another-secret-for-another-deployment"
    assert signing.public_key_bytes() != first  # derived: each deployment its own
    assert [warning.id for warning in signing.check_signing_key()] == ["proposals.W001"]


def test_history_key_prints_a_usable_key(settings, capsys):
    call_command("history_key")
    line = capsys.readouterr().out.strip()
    assert line.startswith("HISTORY_SIGNING_KEY=")
    settings.HISTORY_SIGNING_KEY = line.split("=", 1)[1]
    assert len(signing.public_key_bytes()) == 32
