import app from "./app";
import { scheduled } from "./scheduled";

export { SubjectStore } from "./durable/subject-store";

export default {
  fetch: app.fetch,
  scheduled,
} satisfies ExportedHandler<Env>;
