# syntax=docker/dockerfile:1
# Multitude production image: the ASGI app (HTTP + websockets) under uvicorn.
#   docker build -t multitude .
# Needs at run time: SECRET_KEY, DATABASE_URL (PostgreSQL), REDIS_URL (the channel layer, so
# the workers share live updates), ALLOWED_HOSTS, CSRF_TRUSTED_ORIGINS. See docker-compose.yml.

ARG PYTHON_IMAGE=python:3.12-slim

# --- build: dependencies, static files, compiled translations ---------------------------------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
# gettext's msgfmt, for compilemessages only (stays in this stage).
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
# ([tool.setuptools] packages = [] : the project itself is not an installable package.)
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install --upgrade pip \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .
# Settings need a SECRET_KEY to look like production (manifest static storage); this one is
# used for the build only and is not kept in the image.
RUN SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput \
 && if [ -n "$(find . -maxdepth 2 -type d -name locale)" ]; then \
        SECRET_KEY=build-only-not-secret python manage.py compilemessages --ignore=staticfiles; \
    fi

# --- runtime --------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DEBUG=0
RUN groupadd --system --gid 10001 multitude \
 && useradd --system --uid 10001 --gid multitude --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin multitude
COPY --from=build /opt/venv /opt/venv
# Code and static files stay root-owned (read-only for the app); only var/ is writable.
COPY --from=build /app /app
RUN mkdir -p /app/var && chown multitude:multitude /app/var
WORKDIR /app
USER multitude

# Whose X-Forwarded-For/-Proto to believe: uvicorn reads this variable itself, and so does the
# app (the client address its rate limits count). Default: only a proxy on this host. Set it to
# the address of the TLS proxy in front (compose: its container's address or network); never
# "*" unless nothing but that proxy can reach the port, or any client names its own address.
ENV FORWARDED_ALLOW_IPS=127.0.0.1,::1

EXPOSE 8000
# A TCP check: an HTTP one would meet ALLOWED_HOSTS and the HTTPS redirect.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import socket; socket.create_connection(('127.0.0.1', 8000), 3).close()"]

CMD ["uvicorn", "multitude.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--ws-per-message-deflate", "false", "--ws", "core.ws_server:PreparedFrameProtocol", "--proxy-headers"]
