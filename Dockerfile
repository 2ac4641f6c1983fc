# sip-relay: a SIP call engine. Build: docker build -t sip-relay .   Run: see compose.yaml and README (Deploy).
# Stage 1 builds dist/ with the dev dependencies; stage 2 holds only the built JavaScript and production
# dependencies, runs as the unprivileged `node` user, and starts node directly (PID 1 gets SIGTERM).

FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/build.mjs
COPY src ./src
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    SIP_LOCAL_IP=0.0.0.0 \
    SIP_LOCAL_PORT=5062 \
    RTP_PORT_START=31000 \
    RTP_PORT_END=31399 \
    WS_HOST=0.0.0.0 \
    METRICS_PORT=9464 \
    SIP_LOG_FILE= \
    RECORDING_DIR=/data/recording \
    OUTPUT_DIR=/data/output
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /data/recording /data/output && chown -R node:node /data
VOLUME /data
USER node
# SIP (UDP and TCP on 5062; TLS on 5061 when SIP_TRANSPORTS lists it), the RTP range (UDP, even ports RTP,
# odd RTCP), the WebSocket server and REST API, health and metrics
EXPOSE 5062/udp 5062/tcp 5061/tcp 31000-31399/udp 8080/tcp 9464/tcp
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.METRICS_PORT||9464)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "--max-semi-space-size=4", "--enable-source-maps", "dist/main.js"]
