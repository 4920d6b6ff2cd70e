CREATE TABLE `deletions` (
	`user_id` text PRIMARY KEY NOT NULL,
	`requested_at` integer NOT NULL,
	`requested_by` text NOT NULL
);
