-- Written by hand: drizzle-kit splits an expression index at its comma (the snapshot has it right).
CREATE INDEX `sessions_ended_idx` ON `sessions` (coalesce("revoked_at", "expires_at"));
