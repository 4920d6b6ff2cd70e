CREATE TABLE `audit_events` (
	`id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL,
	`action` text NOT NULL,
	`actor_id` text,
	`subject_id` text,
	`ip` text,
	`user_agent` text,
	`request_id` text,
	`details` text
);
--> statement-breakpoint
CREATE INDEX `audit_at_idx` ON `audit_events` (`at`,`id`);--> statement-breakpoint
CREATE INDEX `audit_subject_idx` ON `audit_events` (`subject_id`,`at`,`id`);--> statement-breakpoint
CREATE TABLE `kyc_applications` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`status` text NOT NULL,
	`document_type` text NOT NULL,
	`rejection_reason` text,
	`submitted_at` integer NOT NULL,
	`decided_at` integer,
	`decided_by` text,
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `kyc_status_submitted_idx` ON `kyc_applications` (`status`,`submitted_at`,`id`);--> statement-breakpoint
CREATE INDEX `kyc_user_idx` ON `kyc_applications` (`user_id`,`submitted_at`);--> statement-breakpoint
CREATE UNIQUE INDEX `kyc_one_open_per_user` ON `kyc_applications` (`user_id`) WHERE status IN ('PENDING', 'APPROVED');--> statement-breakpoint
CREATE TABLE `kyc_documents` (
	`id` text PRIMARY KEY NOT NULL,
	`application_id` text NOT NULL,
	`kind` text NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`r2_key` text NOT NULL,
	`created_at` integer NOT NULL,
	FOREIGN KEY (`application_id`) REFERENCES `kyc_applications`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `kyc_documents_r2_key_unique` ON `kyc_documents` (`r2_key`);--> statement-breakpoint
CREATE INDEX `kyc_documents_application_idx` ON `kyc_documents` (`application_id`);--> statement-breakpoint
CREATE TABLE `webhook_events` (
	`id` text PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`received_at` integer NOT NULL
);
