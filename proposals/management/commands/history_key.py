"""`manage.py history_key`: print a new Ed25519 key for HISTORY_SIGNING_KEY (base64)."""

import base64

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management.base import BaseCommand

from proposals import signing


class Command(BaseCommand):
    help = "Print a new signing key for the history's tree heads, and its public key id."

    def handle(self, *args, **options):
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.stdout.write(f"HISTORY_SIGNING_KEY={base64.b64encode(private).decode('ascii')}")
        self.stderr.write(f"key id {signing.key_id_of(public)}: keep the key out of the database.")
