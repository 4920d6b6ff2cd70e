import type { Config } from "../config";

export type EmailMessage = { to: string; subject: string; text: string };

export interface Mailer {
  send(message: EmailMessage): Promise<void>;
}

/**
 * Development delivery: one log line per message, naming the recipient and carrying the whole text
 * (code and link included), so a person or a test client can read it from the server log.
 * loadConfig refuses this provider outside development and test.
 */
export const consoleMailer: Mailer = {
  async send(message) {
    console.log(`[delivery] ${JSON.stringify({ channel: "email", ...message })}`);
  },
};

export function mailerFor(config: Config): Mailer {
  switch (config.mailProvider) {
    case "console":
      return consoleMailer;
  }
}
