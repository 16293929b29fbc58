# Build stage: TypeScript compiled to JavaScript once, here, not at every start.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts=false
COPY . .
RUN npm run build

# Runtime: production dependencies and the compiled code only.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false && npm cache clean --force
COPY --from=build /app/dist ./dist
# A named volume mounted at /data starts as a copy of this directory, owner included:
# without it the volume belongs to root and the node user cannot write the warehouse.
RUN mkdir -p /data && chown node:node /data
USER node
ENV AIMO_DATA_DIR=/data
EXPOSE 8787
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 CMD ["node", "dist/workers/healthcheck.js"]
CMD ["node", "dist/workers/main.js"]
