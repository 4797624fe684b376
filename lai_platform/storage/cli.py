"""`flask --app app storage init`: the object store made ready for a fresh deployment (the
compose stack's migrate service runs it after `db upgrade`)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lai_platform import services
from lai_platform.storage import LocalStorage, S3Storage, storage_from_url

storage = AppGroup("storage", help="The object store.")


@storage.command("init")
def init_command() -> None:
    """Create the S3 bucket (or the storage folder) when it does not exist yet."""
    url = services.get().settings.storage_url
    # Built from the URL, not taken from the app: whatever wraps the app's store, this talks
    # to the store itself.
    store = storage_from_url(url)
    if isinstance(store, S3Storage):
        created = store.ensure_bucket()
        click.echo(f"bucket {store.bucket}: {'created' if created else 'already there'}")
    elif isinstance(store, LocalStorage):
        store.root.mkdir(parents=True, exist_ok=True)
        click.echo(f"storage folder {store.root}: ready")
