# syntax=docker/dockerfile:1
FROM python:3.11.13-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 ritualbot \
 && useradd --system --uid 10001 --gid ritualbot --create-home --home-dir /home/ritualbot \
      --shell /usr/sbin/nologin ritualbot \
 && mkdir /data \
 && chown ritualbot:ritualbot /data

WORKDIR /app

# Dependencies first, from pyproject.toml at the versions requirements.lock pins, so code
# changes reuse this layer and every build installs the same versions.
COPY pyproject.toml requirements.lock ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install --no-cache-dir -c requirements.lock -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

# Code stays root-owned and read-only to the service user; only /data is writable.
COPY . .
RUN pip install --no-cache-dir --no-deps . \
 && rm -rf build ./*.egg-info \
 && test -d /app/prompts

ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATABASE_URL=sqlite+aiosqlite:////data/ritualbot.db

VOLUME ["/data"]
EXPOSE 3000
USER 10001:10001

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:${PORT}/healthz', timeout=4)" || exit 1

CMD ["ritualbot", "run"]
