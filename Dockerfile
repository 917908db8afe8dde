# The service's image: `selfdebug serve` (the API) and `selfdebug worker` (the workers) run from it.
# BASE is python:3.11-slim normally; with no registry, the offline base that `python -m sandbox build` makes
# (selfdebug-base:bookworm, debootstrap + python3) works too: pip and venv then come from Debian's packages.
ARG BASE=python:3.11-slim
FROM ${BASE}

# EXTRA_CA_CERTS: PEM text of certificate authorities to trust besides the usual ones, for a TLS-intercepting
# proxy between this build and PyPI; trusted by the running service too (its LLM endpoint may sit behind the same one).
ARG EXTRA_CA_CERTS=""
RUN if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -m pip --version >/dev/null 2>&1 \
        || ! command -v update-ca-certificates >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends python3-venv python3-pip ca-certificates \
        && rm -rf /var/lib/apt/lists/*; \
    fi \
    && if [ -n "$EXTRA_CA_CERTS" ]; then \
        printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/selfdebug-extra.crt \
        && update-ca-certificates >/dev/null; \
    fi
# pip and httpx (the LLM client) read these; both then trust the system's store, extra authorities included.
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

WORKDIR /app
# Dependencies first, read from pyproject.toml, in a layer of their own: a change to the code alone reinstalls
# only the project, not the ~60 packages under it.
# EXTRAS: optional dependency groups of pyproject.toml (e.g. dev), comma-separated.
ARG EXTRAS=""
COPY pyproject.toml README.md ./
RUN python3 -m venv /venv \
    && python3 -c 'import sys, tomllib; project = tomllib.load(open("pyproject.toml", "rb"))["project"]; \
extras = [e for e in sys.argv[1].split(",") if e]; \
print("\n".join(project["dependencies"] + [d for e in extras for d in project["optional-dependencies"][e]]))' \
        "$EXTRAS" > /tmp/requirements.txt \
    && /venv/bin/pip install --no-cache-dir --disable-pip-version-check -r /tmp/requirements.txt
COPY selfdebug selfdebug
COPY sandbox sandbox
COPY api api
COPY workers workers
COPY selfdebug_client selfdebug_client
COPY selfdebug_cli selfdebug_cli
COPY selfdebug_lsp selfdebug_lsp
RUN /venv/bin/pip install --no-cache-dir --disable-pip-version-check --no-deps .
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1
# EMBEDDED=1 adds the embedded model (llama-cpp-python's server, compiled here for a portable CPU level, about
# 9 minutes, and SmolLM2's weights), then proves it answers a real completion. The level is explicit, not this
# build machine's processor: the image runs on other machines (x86-64-v2 for processors without AVX2).
ARG EMBEDDED=""
ARG EMBEDDED_CPU_LEVEL=x86-64-v3
RUN if [ -n "$EMBEDDED" ]; then \
        apt-get update && apt-get install -y --no-install-recommends build-essential cmake \
        && SELFDEBUG_LLM_EMBEDDED_CPU_LEVEL="$EMBEDDED_CPU_LEVEL" python -m selfdebug.llm.embedded install \
        && python -m selfdebug.llm.embedded fetch \
        && SELFDEBUG_LLM_EMBEDDED_CPU_LEVEL="$EMBEDDED_CPU_LEVEL" python -m selfdebug.llm.embedded check \
        && rm -rf /var/lib/apt/lists/* /root/.cache/selfdebug/wheels; \
    fi
ENV SELFDEBUG_LLM_EMBEDDED_CPU_LEVEL=$EMBEDDED_CPU_LEVEL

EXPOSE 8000
# Root, because the workers and the API drive the host's Docker engine through its socket (that is root-equivalent:
# run the service on a host dedicated to it, or point DOCKER_HOST at a separate engine).
CMD ["selfdebug", "serve", "--host", "0.0.0.0", "--port", "8000"]
