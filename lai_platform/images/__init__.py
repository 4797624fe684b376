"""Container images as uploaded: `docker save` tarballs, checked by reading them in Python."""
