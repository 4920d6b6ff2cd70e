import app from "./app";
import { scheduled } from "./scheduled";

export { UserGuard } from "./durable/user-guard";

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
