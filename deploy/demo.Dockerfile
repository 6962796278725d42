# The demo gateway, built from the repository root (docker-compose.yml sets the context to ..).
# It runs as the image's unprivileged `node` user (uid 1000), which owns /app: `pnpm demo` builds the
# workspace packages (dist/, .turbo/) before it starts, so the user needs to write there.
FROM node:20-bookworm
WORKDIR /app
RUN chown node:node /app
USER node
COPY --chown=node:node . .
RUN npx -y pnpm@12.4.2 install --frozen-lockfile && npx -y pnpm@12.4.2 build
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["npx", "-y", "pnpm@12.4.2", "demo"]
