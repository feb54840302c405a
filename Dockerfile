# The portal's one image: gunicorn web by default; docker-compose.yml runs the
# Celery worker, beat and the migrate step from the same image.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=dealership.settings

WORKDIR /app

RUN groupadd --system app \
    && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

# Pinned runtime dependencies only (no test tools); its own layer so code
# changes don't reinstall them.
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .

# Static files are built into the image: whitenoise serves them with the
# manifest storage used when DEBUG is off. The key below exists only for this
# step (settings refuse to load without one) and is not kept in the image.
# The compiled .mo catalogues are committed, so no gettext is needed.
# /app/media belongs to the app user so the named volume mounted there is
# writable.
RUN SECRET_KEY=collectstatic-build-only-not-a-secret DEBUG=0 \
        python manage.py collectstatic --noinput \
    && mkdir -p /app/media \
    && chown app:app /app/media

USER app

EXPOSE 8000

CMD ["gunicorn", "dealership.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
