import { auth } from "../auth";
import { field, form, h, render } from "../dom";
import { navigate } from "../router";

export function signupPage(): void {
  const role = h(
    "fieldset",
    {},
    h("legend", {}, "Account type"),
    h("label", {}, h("input", { type: "radio", name: "role", value: "CUSTOMER", checked: true }), "Customer"),
    h("label", {}, h("input", { type: "radio", name: "role", value: "PROVIDER" }), "Provider"),
    h("span", { class: "field-error", "data-error-for": "role" }),
  );
  render(
    "Create your account",
    form(
      "Create account",
      [
        field("Full name", "full_name", { autocomplete: "name", required: true }),
        field("Email", "email", { type: "email", autocomplete: "email", required: true }),
        field("Password", "password", { type: "password", autocomplete: "new-password", required: true, minlength: "8" }),
        role,
      ],
      async (v) => {
        await auth.register({ full_name: v.full_name!, email: v.email!, password: v.password!, role: v.role as "CUSTOMER" | "PROVIDER" });
        navigate(`/verify-email?email=${encodeURIComponent(v.email!)}`);
      },
    ),
    h("p", {}, "Already have an account? ", h("a", { href: "/login" }, "Sign in")),
  );
}
