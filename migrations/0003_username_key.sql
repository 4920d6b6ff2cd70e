DROP INDEX `users_username_unique`;--> statement-breakpoint
ALTER TABLE `users` ADD `username_key` text;--> statement-breakpoint
-- Usernames so far were ASCII only, where NFKC changes nothing and lower() is the canonical form.
UPDATE `users` SET `username_key` = lower(`username`) WHERE `username` IS NOT NULL;--> statement-breakpoint
-- Names that differ only by case: the earliest account keeps it, the others lose it (they can pick another).
UPDATE `users` SET `username` = NULL, `username_key` = NULL
WHERE `username_key` IS NOT NULL AND EXISTS (
  SELECT 1 FROM `users` AS `earlier` WHERE `earlier`.`username_key` = `users`.`username_key`
    AND (`earlier`.`created_at` < `users`.`created_at` OR (`earlier`.`created_at` = `users`.`created_at` AND `earlier`.`id` < `users`.`id`))
);--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_key_unique` ON `users` (`username_key`);
