# PostgreSQL, Redis and an S3-compatible store (moto's server) for compose.local.yml, from
# Debian's packages on the debootstrap base: no registry. One image, three services (each
# runs one of the programs below). The production file uses the official images instead.
FROM lai-base-python:bookworm
# No cluster made at install: the postgres service initialises its own data folder.
RUN mkdir -p /etc/postgresql-common \
 && echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.conf \
 && apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      postgresql-15 redis-server python3-venv \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
# moto from the wheels in the build context (made by the host's pip).
COPY requirements.txt /tmp/moto/requirements.txt
COPY wheels /tmp/moto/wheels
RUN python3 -m venv /opt/moto \
 && /opt/moto/bin/pip install -q --no-cache-dir --no-index --find-links /tmp/moto/wheels \
      -r /tmp/moto/requirements.txt \
 && rm -rf /tmp/moto
COPY postgres.sh /usr/local/bin/lai-postgres
ENV PATH=/usr/lib/postgresql/15/bin:/opt/moto/bin:$PATH
