# One image for every CadreCare process; the command picks the service (see docker-compose.yml, deploy/k8s).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_PYTHON_DOWNLOADS=never
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/* \
 && pip install --no-cache-dir "uv==0.13.9"

WORKDIR /app
COPY constraints.txt pyproject.toml ./
COPY libs libs
COPY services services
RUN uv pip install --system --no-cache -c constraints.txt \
      ./libs/contracts ./libs/servicekit ./services/gateway \
      ./services/registry ./services/scheduling ./services/clinical ./services/reporting

RUN useradd --system --uid 10001 --home /app cadrecare
USER 10001
EXPOSE 8000
# e.g. `registry.app:create_app`; migrations: `python -m servicekit.migrations registry upgrade --url $REGISTRY_DATABASE_URL`
CMD ["uvicorn", "--factory", "registry.app:create_app", "--host", "0.0.0.0", "--port", "8000", "--timeout-keep-alive", "75"]
