# The demo gateway, built from the repository root (docker-compose.yml sets the context to ..).
FROM node:20-bookworm
WORKDIR /app
COPY . .
RUN npx -y pnpm@12.4.2 install --frozen-lockfile && npx -y pnpm@12.4.2 build
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
CMD ["npx", "-y", "pnpm@12.4.2", "demo"]
