# The image behind docker-compose's webgui and worker services.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/seilearn
COPY pyproject.toml README.md ./
COPY seilearn ./seilearn
COPY workflows ./workflows
COPY launchers ./launchers
# torch first and pinned (pass --build-arg TORCH_INDEX=<a CPU wheel index> to avoid the CUDA build)
ARG TORCH_INDEX=""
RUN pip install --no-cache-dir ${TORCH_INDEX:+--index-url $TORCH_INDEX} "torch==2.13.0" \
 && pip install --no-cache-dir ".[chgnet,analysis]"
RUN useradd --create-home seilearn && mkdir -p /data/seilearn && chown seilearn /data/seilearn
USER seilearn
