import type { Config } from "../config";

export type SmsMessage = { to: string; text: string };

export interface SmsSender {
  send(message: SmsMessage): Promise<void>;
}

/** Development delivery: one log line per message, like the console mailer. */
export const consoleSms: SmsSender = {
  async send(message) {
    console.log(`[delivery] ${JSON.stringify({ channel: "sms", ...message })}`);
  },
};

export function smsSenderFor(_config: Config): SmsSender {
  return consoleSms;
}
