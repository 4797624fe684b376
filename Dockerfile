# The platform's own image (web and workers) for docker-compose.yml. Not used by `make demo`.
FROM python:3.11-slim
WORKDIR /srv/lai
COPY pyproject.toml README.md ./
COPY lai_platform lai_platform
COPY evaluator evaluator
RUN pip install --no-cache-dir .
# Templates, static files and migrations are inside the installed package.
COPY app.py gunicorn.conf.py ./
COPY examples examples
ENV LAI_DATA_DIR=/var/lib/lai
EXPOSE 8000
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
