import app from "./app";

export { UserGuard } from "./durable/user-guard";

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
