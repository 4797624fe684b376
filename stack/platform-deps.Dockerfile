# The platform's Python dependencies on the debootstrap base (no registry): a virtual
# environment in /opt/lai. The build context is a folder of wheels made by the host's pip
# (scripts/build_stack_images.sh), so the build reaches only Debian's mirror, through the
# host (`docker build --network host`). Rebuilt only when pyproject.toml changes.
FROM lai-base-python:bookworm
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
COPY requirements.txt /tmp/lai/requirements.txt
COPY wheels /tmp/lai/wheels
# Only the runtime dependencies: the project itself is installed by platform.Dockerfile, so a
# source change never installs a wheel again.
RUN python3 -m venv /opt/lai \
 && /opt/lai/bin/pip install -q --no-cache-dir --no-index --find-links /tmp/lai/wheels \
      -r /tmp/lai/requirements.txt \
 && rm -rf /tmp/lai
COPY tarfile_filters.py /opt/lai/lib/python3.11/site-packages/lai_tarfile_filters.py
RUN echo "import lai_tarfile_filters" > /opt/lai/lib/python3.11/site-packages/lai-tarfile-filters.pth
