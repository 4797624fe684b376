# The platform image for compose.local.yml (web, migrate, workers), from the debootstrap base
# and the dependencies image: no registry. The production Dockerfile at the root of the
# repository does the same from python:3.11-slim.
ARG DEPS_IMAGE=lai-platform-deps:local
FROM ${DEPS_IMAGE}
WORKDIR /srv/lai
# The source is used in place (on PYTHONPATH), not installed: the dependencies are in the
# virtual environment already, so a source change is a copy of a few files and nothing else.
COPY pyproject.toml README.md app.py gunicorn.conf.py ./
COPY evaluator evaluator
COPY examples examples
COPY lai_platform lai_platform
ENV PATH=/opt/lai/bin:$PATH PYTHONPATH=/srv/lai LAI_DATA_DIR=/var/lib/lai \
    PYTHONDONTWRITEBYTECODE=1
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
