import { auth } from "../auth";
import { field, form, h } from "../dom";
import { withReauth } from "../reauth";

type Me = Awaited<ReturnType<typeof auth.me>>;

const CODE_ATTRS = { inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: "6", required: true } as const;

/**
 * The email, phone and first-password part of /account. Each contact change is two steps: a code
 * sent to the new address or number, then that code typed here; nothing changes before it.
 */
export function contactSection(me: Me): HTMLElement {
  const section = h("section", { "aria-label": "Email and phone" });
  section.append(emailPart(me), phonePart(me), passwordPart());
  return section;
}

function emailPart(me: Me): HTMLElement {
  const current = h("p", { "data-email": me.email ?? "" }, emailLine(me.email, me.is_email_verified));
  const confirm = h("div", { class: "stack" });
  const ask = form(
    "Send code",
    [field(me.email ? "New email" : "Email", "new_email", { type: "email", autocomplete: "email", required: true, value: me.is_email_verified ? "" : (me.email ?? "") })],
    async (v) => {
      const sent = await withReauth(() => auth.changeEmail({ new_email: v.new_email!.trim() }));
      confirm.replaceChildren(
        h("p", { role: "status" }, `We sent a code to ${sent.email}. Enter it to confirm the address.`),
        form("Verify", [field("Verification code", "code", CODE_ATTRS)], async (c, f) => {
          const user = await auth.confirmEmailChange({ code: c.code!.trim() });
          current.textContent = emailLine(user.email, user.is_email_verified);
          f.replaceWith(h("p", { class: "ok", role: "status" }, "Email address confirmed."));
        }),
      );
      confirm.querySelector("input")?.focus();
    },
  );
  return h("div", { class: "stack" }, h("h3", {}, "Email"), current, ask, confirm);
}

function phonePart(me: Me): HTMLElement {
  const current = h("p", { "data-phone": me.phone ?? "" }, phoneLine(me.phone, me.is_phone_verified));
  const confirm = h("div", { class: "stack" });
  const ask = form("Send code", [field("Phone number", "phone", { type: "tel", autocomplete: "tel", required: true })], async (v) => {
    const sent = await auth.changePhone({ phone: v.phone!.trim() });
    confirm.replaceChildren(
      h("p", { role: "status" }, `We sent a code by SMS to ${sent.phone}.`),
      form("Verify", [field("Verification code", "otp", CODE_ATTRS)], async (c, f) => {
        const user = await auth.confirmPhoneChange({ otp: c.otp!.trim() });
        current.textContent = phoneLine(user.phone, user.is_phone_verified);
        f.replaceWith(h("p", { class: "ok", role: "status" }, "Phone number confirmed."));
      }),
    );
    confirm.querySelector("input")?.focus();
  });
  return h("div", { class: "stack" }, h("h3", {}, "Phone"), current, ask, confirm);
}

/** For accounts made by phone, Google or passkey: a 409 (the account has one) shows its detail. */
function passwordPart(): HTMLElement {
  const done = h("p", { class: "ok", role: "status" });
  return h(
    "div",
    { class: "stack" },
    h("h3", {}, "Set a password"),
    h("p", { class: "muted" }, "If you signed up by phone, Google or passkey, you can add a password here."),
    form(
      "Set password",
      [field("New password", "new_password", { type: "password", autocomplete: "new-password", required: true, minlength: "8" }), done],
      async (v, f) => {
        await withReauth(() => auth.setPassword({ new_password: v.new_password! }));
        f.reset();
        done.textContent = "Password set.";
      },
    ),
  );
}

const emailLine = (email: string | null | undefined, verified: boolean) =>
  email ? `${email} (${verified ? "verified" : "not verified"})` : "No email address yet.";

const phoneLine = (phone: string | null | undefined, verified: boolean) =>
  phone ? `${phone} (${verified ? "verified" : "not verified"})` : "No phone number yet.";
