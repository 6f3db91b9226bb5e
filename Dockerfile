# The image behind docker-compose's webgui and worker services.
# Two stages: a build stage with a compiler (seilearn's kernels are a C extension), and a final image
# holding only the virtual environment. Dependencies are installed in a layer of their own, before the
# sources, so editing the code does not reinstall them.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1
WORKDIR /src
# torch first and pinned (pass --build-arg TORCH_INDEX=<a CPU wheel index> to avoid the CUDA build)
ARG TORCH_INDEX=""
RUN pip install ${TORCH_INDEX:+--index-url $TORCH_INDEX} "torch==2.13.0"
COPY pyproject.toml ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['chgnet'] + p['optional-dependencies']['analysis']))" \
    > /tmp/requirements.txt && pip install -r /tmp/requirements.txt
COPY setup.py README.md ./
COPY seilearn ./seilearn
COPY workflows ./workflows
COPY launchers ./launchers
RUN pip install --no-deps . && python -c "import seilearn.workflows, seilearn.launchers"

FROM python:3.11-slim
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
RUN useradd --create-home seilearn && mkdir -p /data/seilearn && chown seilearn /data/seilearn
USER seilearn
WORKDIR /home/seilearn
